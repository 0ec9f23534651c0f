package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;
import org.adjoint.nn.Activation;

/**
 * {@code maxPool(relu(conv2d(x, w) + b))} over pooling windows that do not overlap, as one
 * primitive: a convolution layer with a ReLU and the max pooling after it, the CNN's pair, with
 * the bits of {@link ConvActivation} followed by {@link MaxPool2d}, forward and backward. The
 * convolution's output, the largest tensor of the pair, is neither kept nor, where the backend
 * pools it as it is produced, stored at all
 * ({@link org.adjoint.backend.PoolingOps#conv2dBiasReluMaxPool}).
 *
 * <p>Backward needs only the pooled values and the argmax: the ReLU's derivative matters only
 * where a window's maximum lies, and there the ReLU's output is the pooled value; everywhere
 * else the pooling's cotangent is +0. So {@code g}, the cotangent of {@code conv2d(x, w) + b},
 * is {@code (0 + dValues[o]) · step(values[o])} on window {@code o}'s argmax tap and +0
 * elsewhere. Unrecorded, the backend writes {@code g} and the bias gradient in one pass
 * ({@link org.adjoint.backend.PoolingOps#conv2dBiasReluMaxPoolGrad}); recorded, {@code g} is the
 * pooling's transpose of the cotangent times the ReLU's factor of the transposed values, the
 * differentiable operations of the pair's own rules. The convolution's VJPs from {@code g} are
 * {@link ConvActivation}'s. Saves x only when w needs a gradient, w only when x does, the
 * pooled values and the argmax.
 */
public final class ConvMaxPool extends Primitive<ConvMaxPool.Attributes> {

    private static final String NAME = "conv2dMaxPool";
    private static final ConvMaxPool CONV_MAX_POOL = new ConvMaxPool();

    /**
     * The convolution, the pooling over its output, and whether a bias (input 2) is given.
     *
     * @param spec the convolution
     * @param pool the pooling, windows that do not overlap
     * @param bias whether input 2 is a bias
     */
    record Attributes(Conv2d.Spec spec, PoolWindow pool, boolean bias) {
    }

    private ConvMaxPool() {
        super(NAME);
    }

    /**
     * Applies the layer and the pooling: checks the arguments as {@link Conv2d#apply} and
     * {@link MaxPool2d#apply} do, then runs them as one primitive when the pooling windows do
     * not overlap ({@code poolStride ≥ poolKernel}), else as those two.
     *
     * @param input       {@code [N, C, H, W]}
     * @param weight      {@code [O, C/groups, kH, kW]}
     * @param bias        {@code [O]}, or {@code null}
     * @param stride      the convolution's step between windows
     * @param padding     zeros added on every side
     * @param dilation    step between taps
     * @param groups      channel groups; {@code groups} divides {@code C} and {@code O}
     * @param poolKernel  the pooling window's side
     * @param poolStride  step between pooling windows
     * @param poolPadding the pooling's padding on every side, which never wins
     * @return {@code [N, O, H'', W'']}
     * @throws IllegalArgumentException naming {@code conv2d} or {@code maxPool2d} and the shapes
     *                                  when they do not fit
     */
    public static Tensor apply(Tensor input, Tensor weight, Tensor bias, int stride, int padding, int dilation,
                               int groups, int poolKernel, int poolStride, int poolPadding) {
        Conv2d.Spec spec = Conv2d.checkLayer(input, weight, bias, stride, padding, dilation, groups);
        int[] convolved = ConvGemm.Sizes.of(Compute.shape(input), Compute.shape(weight), spec).outputShape();
        PoolWindow pool = PoolWindow.of(true, convolved, poolKernel, poolStride, poolPadding);
        if (!apart(pool)) {
            return MaxPool2d.apply(ConvActivation.apply(input, weight, bias, stride, padding, dilation, groups,
                    Activation.RELU), poolKernel, poolStride, poolPadding);
        }
        Attributes attributes = new Attributes(spec, pool, bias != null);
        return bias == null ? Ops.apply(CONV_MAX_POOL, attributes, input, weight)
                : Ops.apply(CONV_MAX_POOL, attributes, input, weight, bias);
    }

    /** Whether no element lies in two windows, so that each gets at most one cotangent. */
    private static boolean apart(PoolWindow pool) {
        return pool.geometry().stride() >= pool.geometry().kernelHeight()
                && pool.geometry().stride() >= pool.geometry().kernelWidth();
    }

    @Override
    protected Tensor forward(Attributes attributes, Tensor[] inputs, Residuals residuals) {
        Tensor x = inputs[0];
        Tensor w = inputs[1];
        Tensor b = attributes.bias() ? inputs[2] : null;
        Backend backend = b == null ? Compute.backend(NAME, x, w) : Compute.backend(NAME, x, w, b);
        ConvGemm.Sizes sizes = ConvGemm.Sizes.of(Compute.shape(x), Compute.shape(w), attributes.spec());
        PoolWindow pool = attributes.pool();
        int[] outShape = pool.outputShape();
        long pooled = Shapes.size(outShape);
        // Both are written whole; the argmax only when a backward pass may need it.
        Buffer values = Compute.allocateUninitialized(backend, pooled);
        Buffer argmax = residuals.wanted() ? Compute.allocateUninitialized(backend, pooled) : null;
        backend.conv2dBiasReluMaxPool(Compute.buffer(x), Compute.buffer(w), b == null ? null : Compute.buffer(b),
                sizes.geometry(), sizes.images(), sizes.outputs(), sizes.groups(), pool.geometry(), values, argmax);
        if (argmax != null) {
            residuals.keep(Compute.wrap(backend, argmax, outShape));
        }
        return Compute.wrap(backend, values, outShape);
    }

    @Override
    protected boolean savesInput(Attributes attributes, int index, Tensor[] inputs) {
        return Mul.readByOther(index, inputs);
    }

    @Override
    protected boolean savesOutput(Attributes attributes) {
        return true;
    }

    /**
     * {@code g}, the cotangent of {@code conv2d(x, w) + b}; unrecorded, {@code g} and then the
     * bias gradient in one flat tensor that {@link #fusedVjp} reads.
     */
    @Override
    protected Tensor shared(Attributes attributes, Values saved, Tensor cotangent, boolean fused) {
        PoolWindow pool = attributes.pool();
        Tensor values = saved.output();
        Tensor argmax = saved.residual(0);
        if (!fused) {
            Tensor relu = PoolTranspose.apply(pool, values, argmax);
            return PoolTranspose.apply(pool, cotangent, argmax).mul(Pointwise.of(Activation.RELU).factor(relu, 0f));
        }
        Backend backend = Compute.backend(NAME, values, cotangent);
        long n = Shapes.size(pool.inputShape());
        Buffer grads = Compute.allocateUninitialized(backend, n + (attributes.bias() ? pool.geometry().channels() : 0));
        backend.conv2dBiasReluMaxPoolGrad(Compute.buffer(values), Compute.buffer(argmax), Compute.buffer(cotangent),
                pool.geometry(), pool.images(), attributes.bias(), grads);
        return Compute.wrap(backend, grads, new int[] {Math.toIntExact(grads.size())});
    }

    @Override
    protected Tensor vjp(Attributes attributes, Values saved, int input, Tensor g) {
        return ConvActivation.convolutionVjp(attributes.spec(), saved, input, g);
    }

    @Override
    protected Tensor fusedVjp(Attributes attributes, Values saved, int input, Tensor shared) {
        return ConvActivation.convolutionFusedVjp(attributes.spec(), saved, input, shared);
    }

    /**
     * The pair's tangent: the pooling's gather of {@code conv(dx, w) + conv(x, dw) + db} at the
     * argmax, times the ReLU's factor of the pooled values (its output at those taps).
     */
    @Override
    protected Tensor jvp(Attributes attributes, Values primals, Tensor[] tangents) {
        PoolWindow pool = attributes.pool();
        Tensor pre = ConvActivation.convolutionJvp(attributes.spec(), primals, tangents, pool.inputShape());
        if (pre == null) {
            return null;
        }
        return PoolGather.apply(pool, pre, primals.residual(0))
                .mul(Pointwise.of(Activation.RELU).factor(primals.output(), 0f));
    }
}
