package org.adjoint;

import java.util.List;

import org.adjoint.backend.Backend;
import org.adjoint.backend.Backends;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Graph;
import org.adjoint.internal.HostArrays;
import org.adjoint.internal.Node;
import org.adjoint.internal.Shapes;
import org.adjoint.internal.TensorImpl;
import org.adjoint.internal.ops.Add;
import org.adjoint.internal.ops.Cat;
import org.adjoint.internal.ops.Div;
import org.adjoint.internal.ops.IndexSelect;
import org.adjoint.internal.ops.MatMul;
import org.adjoint.internal.ops.MaskedFill;
import org.adjoint.internal.ops.Max;
import org.adjoint.internal.ops.Mul;
import org.adjoint.internal.ops.Narrow;
import org.adjoint.internal.ops.Neg;
import org.adjoint.internal.ops.Permute;
import org.adjoint.internal.ops.Pointwise;
import org.adjoint.internal.ops.Reshape;
import org.adjoint.internal.ops.Softmax;
import org.adjoint.internal.ops.SumTo;
import org.adjoint.internal.ops.Transfer;
import org.adjoint.internal.ops.Transpose;

/**
 * An n-dimensional array of float32 elements, of any rank from 0 up, stored on one
 * {@link Backend}, that records the operations applied to it for reverse-mode automatic
 * differentiation.
 *
 * <p>Several tensors may share storage: {@link #reshape(int...)} of a contiguous tensor and
 * {@link #transpose()} are views that copy nothing (a product reads a transposed operand in
 * place); operations that need row-major input make one contiguous copy of a view.
 * {@link #toFloatArray()} is always row-major.
 *
 * <p>Values are immutable: every operation returns a new tensor. Binary operations
 * broadcast with NumPy's rules, and their gradients are summed back over broadcast axes.
 * A tensor requires a gradient when it is a leaf marked with {@link #requiresGrad(boolean)},
 * or when it was computed (with grad mode on) from one that does.
 *
 * <pre>{@code
 * Tensor w = Tensor.of(new float[] {1, 2, 3}).requiresGrad(true);
 * Tensor loss = w.mul(w).sum();        // 14
 * loss.backward();
 * w.grad();                            // [2, 4, 6]
 * }</pre>
 *
 * <p>A graph is recorded and reversed by one thread at a time; see
 * {@link org.adjoint.autodiff.GradMode} for what that allows across threads.
 */
public final class Tensor {

    static {
        TensorImpl.install(new TensorImpl.Front() {
            @Override
            public Tensor create(TensorImpl impl) {
                return new Tensor(impl);
            }

            @Override
            public TensorImpl impl(Tensor tensor) {
                return tensor.impl;
            }
        });
    }

    // Everything a tensor is lives in its implementation; this class is the user's surface.
    private final TensorImpl impl;

    /** Called only by {@link TensorImpl}, which creates each tensor with its implementation. */
    private Tensor(TensorImpl impl) {
        this.impl = impl;
    }

    /**
     * A tensor holding a copy of {@code data} in row-major order.
     *
     * @param data  the elements
     * @param shape dimensions; none means a 1-D tensor of {@code data.length}
     * @return the tensor, on the current backend
     * @throws IllegalArgumentException when the shape's element count differs from {@code data.length}
     */
    public static Tensor of(float[] data, int... shape) {
        return HostData.of(data, shape);
    }

    /**
     * A rank-0 tensor.
     *
     * @param value its element
     * @return the tensor
     */
    public static Tensor scalar(float value) {
        return HostData.upload("Tensor.scalar", new float[] {value}, new int[0]);
    }

    /**
     * A tensor of zeros.
     *
     * @param shape dimensions
     * @return the tensor
     */
    public static Tensor zeros(int... shape) {
        return filled("Tensor.zeros", 0f, shape);
    }

    /**
     * A tensor of ones.
     *
     * @param shape dimensions
     * @return the tensor
     */
    public static Tensor ones(int... shape) {
        return filled("Tensor.ones", 1f, shape);
    }

    /**
     * A tensor with every element equal to {@code value}.
     *
     * @param value the element
     * @param shape dimensions
     * @return the tensor
     */
    public static Tensor full(float value, int... shape) {
        return filled("Tensor.full", value, shape);
    }

    /** {@code value} everywhere, on the current backend; errors name {@code operation}. */
    private static Tensor filled(String operation, float value, int[] shape) {
        return Compute.full(Backends.current(), value, Shapes.checked(operation, shape));
    }

    /**
     * Standard normal samples, the same for a seed on every backend (drawn on the host with
     * {@link java.util.SplittableRandom} and the Box–Muller transform, then uploaded).
     *
     * @param seed  the seed
     * @param shape dimensions
     * @return the tensor
     */
    public static Tensor randn(long seed, int... shape) {
        return HostData.randn(seed, shape);
    }

    /**
     * Uniform samples in {@code [0, 1)}, the same for a seed on every backend.
     *
     * @param seed  the seed
     * @param shape dimensions
     * @return the tensor
     */
    public static Tensor rand(long seed, int... shape) {
        return HostData.rand(seed, shape);
    }

    /**
     * The dimensions.
     *
     * @return a copy of the shape
     */
    public int[] shape() {
        return impl.shape().clone();
    }

    /**
     * The number of axes.
     *
     * @return the rank (0 for a scalar)
     */
    public int rank() {
        return impl.layout().rank();
    }

    /**
     * The number of elements.
     *
     * @return the product of the dimensions
     */
    public long size() {
        return impl.layout().size();
    }

    /**
     * A row-major copy of the elements.
     *
     * @return a new array
     * @throws org.adjoint.backend.OutOfMemoryException when the heap cannot hold the copy
     */
    public float[] toFloatArray() {
        // The copy is the download's one host allocation: if it fails, nothing else changed.
        return HostArrays.allocate("toFloatArray of " + Shapes.str(impl.shape()), size(), Float.BYTES,
                () -> impl.backend().download(Compute.buffer(this)));
    }

    /**
     * The only element.
     *
     * @return the element
     * @throws IllegalStateException when the tensor does not have exactly one element
     */
    public float item() {
        if (size() != 1) {
            throw new IllegalStateException("item: tensor of shape " + Shapes.str(impl.shape()) + " has " + size()
                    + " elements; item() needs exactly one");
        }
        return toFloatArray()[0];
    }

    /**
     * The backend the tensor lives on.
     *
     * @return its backend's name, such as {@code cpu}
     */
    public String backendName() {
        return impl.backend().name();
    }

    /**
     * The element type; every tensor computes in {@link DType#F32} today.
     *
     * @return the dtype of the storage
     */
    public DType dtype() {
        return impl.dtype();
    }

    /**
     * Element-wise sum with broadcasting.
     *
     * @param other the other operand
     * @return {@code this + other}
     */
    public Tensor add(Tensor other) {
        return Add.apply(this, operand("add", other));
    }

    /**
     * Adds a constant.
     *
     * @param value the constant
     * @return {@code this + value}
     */
    public Tensor add(float value) {
        return Add.apply(this, constant(value));
    }

    /**
     * Element-wise difference with broadcasting.
     *
     * @param other the other operand
     * @return {@code this - other}
     */
    public Tensor sub(Tensor other) {
        return Add.apply("sub", this, operand("sub", other).neg());
    }

    /**
     * Subtracts a constant.
     *
     * @param value the constant
     * @return {@code this - value}
     */
    public Tensor sub(float value) {
        return Add.apply(this, constant(-value));
    }

    /**
     * Element-wise product with broadcasting.
     *
     * @param other the other operand
     * @return {@code this * other}
     */
    public Tensor mul(Tensor other) {
        return Mul.apply(this, operand("mul", other));
    }

    /**
     * Multiplies by a constant.
     *
     * @param value the constant
     * @return {@code this * value}
     */
    public Tensor mul(float value) {
        return Mul.apply(this, constant(value));
    }

    /**
     * Element-wise quotient with broadcasting, one IEEE division an element.
     *
     * @param other the divisor
     * @return {@code this / other}
     */
    public Tensor div(Tensor other) {
        return Div.apply(this, operand("div", other));
    }

    /**
     * Divides by a constant: the product with its float32 reciprocal where that is finite (the
     * bits every loss's mean has had), a true division where the divisor is so small that its
     * reciprocal overflows (a subnormal, or 0).
     *
     * @param value the divisor
     * @return {@code this / value}
     */
    public Tensor div(float value) {
        float reciprocal = 1f / value;
        return Float.isInfinite(reciprocal) ? Div.apply(this, constant(value)) : Mul.apply(this, constant(reciprocal));
    }

    /** The other operand of {@code op}, refused when null with a message that names the operation. */
    private static Tensor operand(String op, Tensor other) {
        if (other == null) {
            throw new IllegalArgumentException(op + ": the other operand is null");
        }
        return other;
    }

    /**
     * Negation.
     *
     * @return {@code -this}
     */
    public Tensor neg() {
        return Neg.apply(this);
    }

    /**
     * Element-wise power with a constant exponent.
     *
     * @param exponent the exponent
     * @return {@code this^exponent}
     */
    public Tensor pow(float exponent) {
        return Pointwise.POW.apply(this, exponent);
    }

    /**
     * Exponential.
     *
     * @return {@code e^this}
     */
    public Tensor exp() {
        return Pointwise.EXP.apply(this);
    }

    /**
     * Natural logarithm.
     *
     * @return {@code ln(this)}
     */
    public Tensor log() {
        return Pointwise.LOG.apply(this);
    }

    /**
     * Square root.
     *
     * @return {@code sqrt(this)}
     */
    public Tensor sqrt() {
        return Pointwise.SQRT.apply(this);
    }

    /**
     * Hyperbolic tangent.
     *
     * @return {@code tanh(this)}
     */
    public Tensor tanh() {
        return Pointwise.TANH.apply(this);
    }

    /**
     * Exact GELU (Gaussian error linear unit), {@code x·Φ(x)} with Φ the standard normal
     * distribution function: PyTorch's default {@code gelu} (the erf form, not its tanh
     * approximation). Accurate to a few float ulps everywhere, also far into the negative
     * side, where {@code 0.5·x·(1 + erf(x/√2))} in float cancels to 0.
     *
     * @return {@code this·Φ(this)}
     */
    public Tensor gelu() {
        return Pointwise.GELU.apply(this);
    }

    /**
     * Logistic sigmoid.
     *
     * @return {@code 1 / (1 + e^-this)}
     */
    public Tensor sigmoid() {
        return Pointwise.SIGMOID.apply(this);
    }

    /**
     * Rectified linear unit; its derivative at 0 is taken as 0.
     *
     * @return {@code max(this, 0)}
     */
    public Tensor relu() {
        return Pointwise.RELU.apply(this);
    }

    /**
     * Matrix product with NumPy {@code matmul} semantics: 1-D·1-D is a dot product, a 1-D
     * operand is promoted to a row (left) or column (right) and that axis removed from the
     * result, and leading batch axes broadcast.
     *
     * @param other the right operand
     * @return {@code this · other}
     * @throws IllegalArgumentException when inner dimensions or batch axes do not match
     */
    public Tensor matmul(Tensor other) {
        return MatMul.numpy(this, operand("matmul", other));
    }

    /**
     * Swaps the last two axes.
     *
     * @return the transposed tensor
     * @throws IllegalArgumentException when the rank is below 2
     */
    public Tensor transpose() {
        return Transpose.apply(this);
    }

    /**
     * Reorders the axes: axis {@code i} of the result is axis {@code axes[i]} of this tensor.
     * A view of the same storage (no copy).
     *
     * @param axes a permutation of the axes, negative counting from the end
     * @return the permuted view
     * @throws IllegalArgumentException when {@code axes} is not a permutation of this tensor's axes
     */
    public Tensor permute(int... axes) {
        return Permute.apply(this, axes);
    }

    /**
     * Swaps two axes: a view of the same storage (no copy).
     *
     * @param axis0 one axis, negative counting from the end
     * @param axis1 the other
     * @return the view with the two axes swapped
     * @throws IllegalArgumentException when an axis is out of range
     */
    public Tensor transpose(int axis0, int axis1) {
        return Permute.swap(this, axis0, axis1);
    }

    /**
     * The slice {@code [start, start + length)} along one axis: a view of the same storage
     * (no copy).
     *
     * @param axis   the axis, negative counting from the end
     * @param start  the first index kept
     * @param length how many are kept
     * @return the narrowed view
     * @throws IllegalArgumentException when the axis is out of range or {@code start + length} exceeds it
     */
    public Tensor narrow(int axis, int start, int length) {
        return Narrow.apply(this, axis, start, length);
    }

    /**
     * Consecutive pieces of {@code size} along one axis, the last one shorter when
     * {@code size} does not divide the axis; each a view ({@link #narrow}).
     *
     * @param size the length of each piece, positive
     * @param axis the axis, negative counting from the end
     * @return the pieces in order (none for an axis of length 0)
     * @throws IllegalArgumentException when the axis is out of range or {@code size} is not positive
     */
    public List<Tensor> split(int size, int axis) {
        return Narrow.split(this, size, axis);
    }

    /**
     * Joins tensors along an existing axis, copying each into its place in one pass (parts
     * may be views).
     *
     * @param parts tensors of one rank and backend whose shapes agree except along {@code axis}
     * @param axis  the axis, negative counting from the end
     * @return a new tensor whose {@code axis} is the sum of the parts'
     * @throws IllegalArgumentException for an empty list, an axis out of range or shapes that differ elsewhere
     */
    public static Tensor cat(List<Tensor> parts, int axis) {
        return Cat.cat(parts, axis);
    }

    /**
     * Joins tensors of one shape along a new axis.
     *
     * @param parts tensors of one shape and backend
     * @param axis  the new axis' place in the result, in {@code [-(rank+1), rank]} for parts of rank {@code rank}
     * @return a new tensor of rank one more, the new axis of length {@code parts.size()}
     * @throws IllegalArgumentException for an empty list, an axis out of range or shapes that differ
     */
    public static Tensor stack(List<Tensor> parts, int axis) {
        return Cat.stack(parts, axis);
    }

    /**
     * The entries at {@code indices} along one axis, repeats allowed; the gradient adds up
     * over repeats, so an embedding lookup is {@code weight.indexSelect(0, ids)}.
     *
     * @param axis    the axis, negative counting from the end
     * @param indices indices into that axis
     * @return a tensor of this shape with that axis of length {@code indices.length}
     * @throws IllegalArgumentException when the axis or an index is out of range (the message names both),
     *                                  or the axis is longer than 2<sup>24</sup> (16,777,216): the
     *                                  backends' default kernels carry indices as float32, exact to there
     */
    public Tensor indexSelect(int axis, int[] indices) {
        return IndexSelect.apply(this, axis, indices);
    }

    /**
     * {@code value} where the broadcast {@code mask} is non-zero, this tensor's element
     * elsewhere: exactly {@code value} even where this tensor is infinite or NaN. No gradient
     * reaches the filled positions; the mask is not differentiated.
     *
     * @param mask  a tensor whose shape broadcasts with this one's (a NaN in it counts as zero)
     * @param value the fill value
     * @return a new tensor of the broadcast shape
     * @throws IllegalArgumentException when the shapes do not broadcast
     */
    public Tensor maskedFill(Tensor mask, float value) {
        return MaskedFill.apply(this, mask, value);
    }

    /**
     * The same elements with new dimensions; one of them may be -1 and is inferred.
     *
     * @param newShape dimensions with the same element count
     * @return the reshaped tensor (storage is shared; tensors are immutable)
     */
    public Tensor reshape(int... newShape) {
        return Reshape.apply(this, newShape);
    }

    /**
     * Sum of all elements.
     *
     * @return a rank-0 tensor
     */
    public Tensor sum() {
        return SumTo.fresh(this, new int[0]);
    }

    /**
     * Mean of all elements.
     *
     * @return a rank-0 tensor
     */
    public Tensor mean() {
        return sum().mul(1f / size());
    }

    /**
     * Sum along one axis.
     *
     * @param axis    the axis, negative counting from the end
     * @param keepDim keep the axis with length 1
     * @return the sums
     */
    public Tensor sum(int axis, boolean keepDim) {
        return SumTo.alongAxis(this, axis, keepDim);
    }

    /**
     * Mean along one axis.
     *
     * @param axis    the axis, negative counting from the end
     * @param keepDim keep the axis with length 1
     * @return the means
     */
    public Tensor mean(int axis, boolean keepDim) {
        int a = Shapes.axis("mean", axis, impl.shape());
        return sum(a, keepDim).mul(1f / impl.shape()[a]);
    }

    /**
     * Maximum along one axis; the gradient flows to the first maximal element of each lane.
     *
     * @param axis    the axis, negative counting from the end
     * @param keepDim keep the axis with length 1
     * @return the maxima
     */
    public Tensor max(int axis, boolean keepDim) {
        return Max.alongAxis(this, axis, keepDim);
    }

    /**
     * Softmax along one axis, computed stably.
     *
     * @param axis the axis, negative counting from the end
     * @return probabilities that sum to 1 along {@code axis}
     */
    public Tensor softmax(int axis) {
        return Softmax.apply(this, Shapes.axis("softmax", axis, impl.shape()), false);
    }

    /**
     * Log-softmax along one axis, computed stably (not as {@code log(softmax)}).
     *
     * @param axis the axis, negative counting from the end
     * @return log-probabilities along {@code axis}
     */
    public Tensor logSoftmax(int axis) {
        return Softmax.apply(this, Shapes.axis("logSoftmax", axis, impl.shape()), true);
    }

    /**
     * Marks a leaf as needing a gradient (or not).
     *
     * @param requires whether {@link #backward()} should compute this tensor's gradient
     * @return this tensor
     * @throws IllegalStateException when called on a tensor computed from others
     */
    public Tensor requiresGrad(boolean requires) {
        Node producer = impl.producer();
        if (producer != null) {
            throw new IllegalStateException("requiresGrad: only a leaf's flag can be set; this tensor of shape "
                    + Shapes.str(impl.shape()) + " was computed by '" + producer.name() + "' (use detach() for a new leaf)");
        }
        impl.setRequiresGrad(requires);
        return this;
    }

    /**
     * Whether gradients flow to or through this tensor.
     *
     * @return true for a marked leaf or a result computed from one with grad mode on
     */
    public boolean requiresGrad() {
        return impl.requiresGrad();
    }

    /**
     * Whether this tensor was created by the user rather than computed by a recorded operation.
     *
     * @return true for a leaf
     */
    public boolean isLeaf() {
        return impl.producer() == null;
    }

    /**
     * Reverse-mode differentiation from a one-element tensor: accumulates {@code d this / d leaf}
     * into the {@link #grad()} of every leaf it depends on, then frees the graph's saved state.
     *
     * @throws IllegalStateException when the tensor has more than one element, does not
     *                               require a gradient, or its graph was freed already
     */
    public void backward() {
        backward(Graph.unitSeed(this), false);
    }

    /**
     * Reverse-mode differentiation with an explicit cotangent: accumulates
     * {@code seedᵀ · d this / d leaf} into every leaf's gradient, then frees the graph.
     *
     * @param seed cotangent of this tensor, of its shape
     */
    public void backward(Tensor seed) {
        backward(seed, false);
    }

    /**
     * Like {@link #backward(Tensor)}, optionally keeping the saved state for another pass.
     *
     * @param seed        cotangent of this tensor, of its shape
     * @param retainGraph keep the graph so that {@code backward} can run through it again
     */
    public void backward(Tensor seed, boolean retainGraph) {
        if (seed == null) {
            throw new IllegalArgumentException("backward: the seed is null; pass a tensor of the output's shape "
                    + Shapes.str(shape()) + ", or call backward() on a one-element output");
        }
        Graph.checkRoot(this, seed);
        Graph.backward(List.of(this), List.of(seed), retainGraph, false);
    }

    /**
     * The gradient accumulated by {@code backward} into this leaf.
     *
     * @return the gradient, of this tensor's shape, or {@code null} when none has been computed
     */
    public Tensor grad() {
        return impl.grad();
    }

    /** Clears the accumulated gradient. */
    public void zeroGrad() {
        impl.setGrad(null);
    }

    /**
     * A copy on another backend, for example {@code x.to("cuda")}; this tensor itself when it
     * already lives there. Differentiable: the gradient flows back to this tensor's backend.
     * Operations on tensors of two backends throw, naming both, so move them first.
     *
     * @param backendName a backend name such as {@code cpu} or {@code cuda}
     * @return the tensor on that backend
     * @throws IllegalStateException when that backend is not installed or cannot run here
     */
    public Tensor to(String backendName) {
        return to(Backends.named(backendName));
    }

    /**
     * A copy on another backend; see {@link #to(String)}.
     *
     * @param target the backend
     * @return the tensor on that backend
     */
    public Tensor to(Backend target) {
        return Transfer.apply(this, Backends.requireAvailable(target));
    }

    /**
     * The same values without history: a new leaf that does not require a gradient.
     *
     * @return a tensor sharing this one's storage
     */
    public Tensor detach() {
        return impl.view(impl.layout());
    }

    /**
     * Shape and values, abbreviated beyond six entries per axis.
     *
     * @return for example {@code Tensor[2, 2] [[1.0, 2.0], [3.0, 4.0]]}
     */
    @Override
    public String toString() {
        Node producer = impl.producer();
        return HostData.format(impl.shape(), toFloatArray(), producer == null ? null : producer.name(),
                impl.requiresGrad());
    }

    private Tensor constant(float value) {
        return Compute.full(impl.backend(), value, new int[0]);
    }
}
