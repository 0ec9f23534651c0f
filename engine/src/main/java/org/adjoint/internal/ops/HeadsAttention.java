package org.adjoint.internal.ops;

import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

import org.adjoint.Tensor;
import org.adjoint.backend.AttentionOps.Rows;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Layout;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * Multi-head attention straight from a fused projection, as one primitive: the input
 * {@code [..., T, 3·W]} holds each position's queries, keys and values side by side (the
 * columns of GPT-2's {@code c_attn}), each {@code W = heads · d} wide and split into
 * {@code heads} heads of {@code d}; the output {@code [..., T, W]} holds each position's heads
 * joined again. It computes what {@link Attention} computes on the heads split by views
 * ({@code narrow(-1, i·W, W).reshape(..., T, heads, d).transpose(-3, -2)}) and joined by
 * {@code transpose(-3, -2).reshape(..., T, W)}, with the same backend calls on the same rows,
 * so the output has the same bits.
 *
 * <p>What it saves over that composition is the backward pass's gathering: there each head's
 * three gradients go to a buffer of their own and the slices' gradients are then copied into
 * the projection's (and added to zero); here the backend's {@code attentionGrad} writes
 * {@code dq}, {@code dk} and {@code dv} straight into their columns of one {@code [..., T, 3·W]}
 * gradient. A recorded backward pass and the JVP are {@link Attention}'s compositions on the
 * split heads, joined by a concatenation.
 */
public final class HeadsAttention extends Primitive<HeadsAttention.Heads> {

    private static final HeadsAttention PRIMITIVE = new HeadsAttention();
    private static final String NAME = "headsAttention";
    private static final int LOG_SUM_EXP = 0;

    /**
     * The attributes.
     *
     * @param heads  the head count
     * @param causal whether query {@code i} sees only keys {@code j ≤ i}
     */
    public record Heads(int heads, boolean causal) {
    }

    private HeadsAttention() {
        super(NAME);
    }

    /**
     * Attention over the heads of a fused projection.
     *
     * @param projected {@code [..., T, 3·W]}: queries, keys, values, each {@code heads · d} wide
     * @param heads     the head count
     * @param causal    whether query {@code i} sees only keys {@code j ≤ i}
     * @return {@code [..., T, W]}, the heads joined
     * @throws IllegalArgumentException naming the shape and the head count, for a null input, a
     *                                  rank below 2, a head count below 1, a last axis that is not
     *                                  {@code 3 · heads} times a head width of at least 1, or no positions
     */
    public static Tensor apply(Tensor projected, int heads, boolean causal) {
        check(projected, heads);
        return Ops.apply(PRIMITIVE, new Heads(heads, causal), projected);
    }

    /** Refuses a projection and head count that {@link #apply} cannot take, naming them. */
    private static void check(Tensor projected, int heads) {
        if (projected == null) {
            throw new IllegalArgumentException(NAME + ": the projection is null");
        }
        int[] shape = Compute.shape(projected);
        String given = " (projection " + Shapes.str(shape) + ", " + heads + " heads)";
        if (shape.length < 2) {
            throw new IllegalArgumentException(NAME + ": the projection must have rank at least 2, [..., time, 3·width]"
                    + given);
        }
        if (heads < 1) {
            throw new IllegalArgumentException(NAME + ": the head count must be at least 1" + given);
        }
        int columns = shape[shape.length - 1];
        if (columns == 0 || columns % (3L * heads) != 0) {
            throw new IllegalArgumentException(NAME + ": the last axis " + columns + " is not 3 × " + heads
                    + " heads × a head width of at least 1" + given);
        }
        if (shape[shape.length - 2] == 0) {
            throw new IllegalArgumentException(NAME + ": no positions, so no keys to attend to" + given);
        }
    }

    /**
     * The plain composition of the same attention, the heads split by views and joined again
     * around {@link Attention#reference} with {@code weights} applied to the attention weights
     * (a dropout of them, which the fused primitive never holds).
     *
     * @param projected {@code [..., T, 3·W]}
     * @param heads     the head count
     * @param causal    whether query {@code i} sees only keys {@code j ≤ i}
     * @param weights   applied to the {@code [..., heads, T, T]} probabilities
     * @return {@code [..., T, W]}
     * @throws IllegalArgumentException as {@link #apply}
     */
    public static Tensor reference(Tensor projected, int heads, boolean causal, UnaryOperator<Tensor> weights) {
        check(projected, heads);
        Dims n = Dims.of(projected, heads);
        return join(Attention.reference(split(projected, n, 0), split(projected, n, 1), split(projected, n, 2), causal,
                weights), n);
    }

    /** The sizes of one application. */
    private record Dims(int[] batch, int t, int heads, int d) {
        static Dims of(Tensor projected, int heads) {
            int[] shape = Compute.shape(projected);
            int r = shape.length;
            return new Dims(Arrays.copyOf(shape, r - 2), shape[r - 2], heads, shape[r - 1] / (3 * heads));
        }

        int width() {
            return heads * d;
        }

        /** The kernels' batch axes: the projection's, then the heads. */
        int[] kernelBatch() {
            int[] axes = Arrays.copyOf(batch, batch.length + 1);
            axes[batch.length] = heads;
            return axes;
        }

        /** The shape of {@code columns} columns over these positions. */
        int[] shape(int columns) {
            int[] shape = Arrays.copyOf(batch, batch.length + 2);
            shape[batch.length] = t;
            shape[batch.length + 1] = columns;
            return shape;
        }

        /**
         * Where part {@code part}'s heads lie in a tensor of these positions laid out as
         * {@code layout} (its rows contiguous): head {@code h} of a position is {@code d} columns
         * from {@code part · W + h · d}.
         */
        Rows heads(Layout layout, int part) {
            int[] strides = layout.strides();
            int r = strides.length;
            int[] batchStrides = Arrays.copyOf(strides, r - 1);
            batchStrides[r - 2] = d;
            return new Rows(layout.offset() + (long) part * width(), batchStrides, strides[r - 2]);
        }
    }

    @Override
    protected Tensor forward(Heads attributes, Tensor[] inputs, Residuals residuals) {
        Tensor projected = inputs[0];
        Dims n = Dims.of(projected, attributes.heads());
        Backend backend = Compute.backend(NAME, projected);
        int[] outShape = n.shape(n.width());
        long items = Shapes.size(n.kernelBatch());
        Buffer out = Compute.allocateUninitialized(backend, items * n.t() * n.d());
        Buffer logSumExp = Compute.allocateUninitialized(backend, items * n.t());
        Attention.Source source = Attention.Source.of(projected);
        backend.attention(source.buffer(), n.heads(source.layout(), 0), source.buffer(), n.heads(source.layout(), 1),
                source.buffer(), n.heads(source.layout(), 2), n.kernelBatch(), n.t(), n.t(), n.d(), n.d(),
                attributes.causal(), Attention.scale(n.d()), out, n.heads(Layout.contiguous(outShape), 0), logSumExp);
        int[] lseShape = Arrays.copyOf(n.kernelBatch(), n.batch().length + 2);
        lseShape[n.batch().length + 1] = n.t();
        residuals.keep(Compute.wrap(backend, logSumExp, lseShape));
        return Compute.wrap(backend, out, outShape);
    }

    @Override
    protected boolean savesInput(Heads attributes, int index, Tensor[] inputs) {
        return true;
    }

    @Override
    protected boolean savesOutput(Heads attributes) {
        return true;
    }

    /**
     * Unrecorded: one backend call writes the three gradients into their columns of one buffer,
     * the gradient of the one input ({@code input} is always 0).
     */
    @Override
    protected Tensor fusedVjp(Heads attributes, Values saved, int input, Tensor cotangent) {
        Tensor projected = saved.input(0);
        Dims n = Dims.of(projected, attributes.heads());
        Backend backend = Compute.backend(NAME, projected, cotangent);
        int[] gradShape = n.shape(3 * n.width());
        Buffer grads = Compute.allocateUninitialized(backend, Shapes.size(gradShape));
        Layout into = Layout.contiguous(gradShape);
        Attention.Source source = Attention.Source.of(projected);
        Attention.Source out = Attention.Source.of(saved.output());
        Attention.Source dOut = Attention.Source.of(cotangent);
        backend.attentionGrad(source.buffer(), n.heads(source.layout(), 0), source.buffer(),
                n.heads(source.layout(), 1), source.buffer(), n.heads(source.layout(), 2), out.buffer(),
                n.heads(out.layout(), 0), Compute.buffer(saved.residual(LOG_SUM_EXP)), dOut.buffer(),
                n.heads(dOut.layout(), 0), n.kernelBatch(), n.t(), n.t(), n.d(), n.d(), attributes.causal(),
                Attention.scale(n.d()), grads, n.heads(into, 0), n.heads(into, 1), n.heads(into, 2));
        return Compute.wrap(backend, grads, gradShape);
    }

    /**
     * The heads of part {@code part} of {@code x} (its columns {@code part·W} to
     * {@code (part+1)·W}, or all of a tensor {@code W} wide) as {@code [..., heads, T, d]}.
     */
    private static Tensor split(Tensor x, Dims n, int part) {
        int r = n.batch().length + 2;
        int[] heads = Arrays.copyOf(n.shape(n.heads()), r + 1);
        heads[r] = n.d();
        Tensor columns = Compute.shape(x)[r - 1] == n.width() ? x : x.narrow(-1, part * n.width(), n.width());
        return columns.reshape(heads).transpose(-3, -2);
    }

    /** {@code [..., heads, T, d]} back to {@code [..., T, W]}. */
    private static Tensor join(Tensor x, Dims n) {
        return x.transpose(-3, -2).reshape(n.shape(n.width()));
    }

    @Override
    protected Tensor vjp(Heads attributes, Values saved, int input, Tensor cotangent) {
        Tensor projected = saved.input(0);
        Dims n = Dims.of(projected, attributes.heads());
        Tensor[] grads = Attention.composedVjps(split(projected, n, 0), split(projected, n, 1),
                split(projected, n, 2), attributes.causal(), split(cotangent, n, 0), new boolean[] {true, true, true});
        return Tensor.cat(List.of(join(grads[0], n), join(grads[1], n), join(grads[2], n)), -1);
    }

    @Override
    protected Tensor jvp(Heads attributes, Values primals, Tensor[] tangents) {
        if (tangents[0] == null) {
            return null;
        }
        Tensor projected = primals.input(0);
        Dims n = Dims.of(projected, attributes.heads());
        Tensor[] split = new Tensor[3];
        for (int part = 0; part < 3; part++) {
            split[part] = split(tangents[0], n, part);
        }
        return join(Attention.composedJvp(split(projected, n, 0), split(projected, n, 1), split(projected, n, 2),
                attributes.causal(), split), n);
    }
}
