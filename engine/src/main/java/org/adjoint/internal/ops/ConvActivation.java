package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.UnaryOp;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Layout;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.TensorImpl;
import org.adjoint.nn.Activation;

/**
 * {@code y = activation(conv2d(x, w) + b)} as one primitive, the convolution's counterpart of
 * {@link LinearActivation}: the backend applies the bias and the activation to the
 * convolution's output while it is in cache
 * ({@link org.adjoint.backend.ConvolutionOps#conv2dBiasActivation}), with the bits of
 * {@link Conv2d} followed by a broadcast {@link Add} and the activation's {@link Pointwise} row.
 * Backward, {@code g = dy · activation'(y)} is computed once and shared by the three VJPs:
 * {@code dx = }{@link ConvInputGrad}{@code (g, w)}, {@code dw = }{@link ConvWeightGrad}{@code (x, g)}
 * and {@code db = Σ g} over images and positions. A backward pass that is not recorded
 * computes {@code g} and {@code db} in one backend call
 * ({@link org.adjoint.backend.ConvolutionOps#conv2dBiasActivationGrad}), one buffer holding
 * {@code g} and then {@code db}; a recorded one writes them with differentiable operations,
 * the same bits. Saves x only when w needs a gradient, w only when x does, and y unless the
 * activation is the identity.
 */
public final class ConvActivation extends Primitive<ConvActivation.Attributes> {

    private static final String NAME = "conv2d";
    private static final ConvActivation CONV_ACTIVATION = new ConvActivation();

    /**
     * The convolution, its activation, and whether a bias (input 2) is given.
     *
     * @param spec       the convolution
     * @param activation the activation
     * @param bias       whether input 2 is a bias
     */
    record Attributes(Conv2d.Spec spec, Activation activation, boolean bias) {
    }

    private ConvActivation() {
        super(NAME);
    }

    /**
     * Applies the layer: checks the arguments as {@link Conv2d#apply} does, then convolves and
     * applies the bias and the activation.
     *
     * @param input      {@code [N, C, H, W]}
     * @param weight     {@code [O, C/groups, kH, kW]}
     * @param bias       {@code [O]}, or {@code null}
     * @param stride     step between windows
     * @param padding    zeros added on every side
     * @param dilation   step between taps
     * @param groups     channel groups; {@code groups} divides {@code C} and {@code O}
     * @param activation the activation
     * @return {@code [N, O, H', W']}
     * @throws IllegalArgumentException naming {@code conv2d} and the shapes when they do not fit
     */
    public static Tensor apply(Tensor input, Tensor weight, Tensor bias, int stride, int padding, int dilation,
                               int groups, Activation activation) {
        if (activation == null) {
            throw new IllegalArgumentException(NAME + ": the activation must not be null (IDENTITY for none)");
        }
        Conv2d.Spec spec = Conv2d.checkLayer(input, weight, bias, stride, padding, dilation, groups);
        if (bias == null) {
            return Ops.apply(CONV_ACTIVATION, new Attributes(spec, activation, false), input, weight);
        }
        return Ops.apply(CONV_ACTIVATION, new Attributes(spec, activation, true), input, weight, bias);
    }

    /** The backend's name of the activation: its {@link Pointwise} row's function, {@code null} for none. */
    private static UnaryOp kernel(Activation activation) {
        Pointwise row = Pointwise.of(activation);
        return row == null ? null : row.op();
    }

    @Override
    protected Tensor forward(Attributes attributes, Tensor[] inputs, Residuals residuals) {
        ConvGemm.Sizes sizes = ConvGemm.Sizes.of(Compute.shape(inputs[0]), Compute.shape(inputs[1]), attributes.spec());
        return ConvGemm.forward(sizes, inputs[0], inputs[1], attributes.bias() ? inputs[2] : null,
                kernel(attributes.activation()));
    }

    @Override
    protected boolean savesInput(Attributes attributes, int index, Tensor[] inputs) {
        return Mul.readByOther(index, inputs);
    }

    @Override
    protected boolean savesOutput(Attributes attributes) {
        return attributes.activation() != Activation.IDENTITY;
    }

    /**
     * {@code g}, the cotangent of {@code conv2d(x, w) + b}; unrecorded, {@code g} and then the
     * bias gradient in one flat tensor that {@link #fusedVjp} reads.
     */
    @Override
    protected Tensor shared(Attributes attributes, Values saved, Tensor cotangent, boolean fused) {
        Activation activation = attributes.activation();
        if (activation == Activation.IDENTITY) {
            return cotangent;
        }
        Tensor y = saved.output();
        if (!fused) {
            return cotangent.mul(Pointwise.of(activation).factor(y, 0f));
        }
        int[] shape = Compute.shape(y);
        int positions = shape[2] * shape[3];
        long n = (long) shape[0] * shape[1] * positions;
        Backend backend = Compute.backend(NAME, y, cotangent);
        Buffer grads = Compute.allocateUninitialized(backend, n + (attributes.bias() ? shape[1] : 0));
        backend.conv2dBiasActivationGrad(kernel(activation), Compute.buffer(y), Compute.buffer(cotangent), shape[0],
                shape[1], positions, attributes.bias(), grads);
        return Compute.wrap(backend, grads, new int[] {Math.toIntExact(grads.size())});
    }

    @Override
    protected Tensor vjp(Attributes attributes, Values saved, int input, Tensor g) {
        return convolutionVjp(attributes.spec(), saved, input, g);
    }

    /**
     * The VJPs of the convolution and its bias from {@code g}, the cotangent of
     * {@code conv2d(x, w) + b}, with differentiable operations; the saved values are this
     * primitive's (x, w and the bias as inputs 0 to 2), as they are {@link ConvMaxPool}'s.
     */
    static Tensor convolutionVjp(Conv2d.Spec spec, Values saved, int input, Tensor g) {
        return switch (input) {
            case 0 -> {
                int[] xs = saved.inputShape(0);
                yield ConvInputGrad.apply(g, saved.input(1), spec, xs[2], xs[3]);
            }
            case 1 -> {
                int[] ws = saved.inputShape(1);
                yield ConvWeightGrad.apply(saved.input(0), g, spec, ws[2], ws[3]);
            }
            default -> {
                int outputs = saved.inputShape(2)[0];
                yield Reshape.apply(SumTo.apply(g, new int[] {1, outputs, 1, 1}), outputs);
            }
        };
    }

    /** From the flat tensor of {@link #shared}: {@code g} read where it starts, the bias gradient a view of its end. */
    @Override
    protected Tensor fusedVjp(Attributes attributes, Values saved, int input, Tensor shared) {
        if (attributes.activation() == Activation.IDENTITY) {
            return vjp(attributes, saved, input, shared);
        }
        return convolutionFusedVjp(attributes.spec(), saved, input, shared);
    }

    /**
     * The VJPs of the convolution and its bias from one flat tensor holding {@code g} and then,
     * with a bias, its gradient (what {@code conv2dBiasActivationGrad} and
     * {@code conv2dBiasReluMaxPoolGrad} write): the convolution's gradients read {@code g}'s
     * buffer where it starts, the bias gradient is a view of its end.
     */
    static Tensor convolutionFusedVjp(Conv2d.Spec spec, Values saved, int input, Tensor shared) {
        Backend backend = TensorImpl.of(shared).backend();
        Buffer grads = Compute.buffer(shared);
        return switch (input) {
            case 0 -> {
                Tensor w = saved.input(1);
                yield ConvGemm.inputGrad(ConvGemm.Sizes.of(saved.inputShape(0), Compute.shape(w), spec), backend, grads,
                        w);
            }
            case 1 -> {
                Tensor x = saved.input(0);
                yield ConvGemm.weightGrad(ConvGemm.Sizes.of(Compute.shape(x), saved.inputShape(1), spec), backend, x,
                        grads);
            }
            default -> {
                int outputs = saved.inputShape(2)[0];
                yield TensorImpl.of(shared).view(Layout.part(new int[] {outputs}, new int[] {1},
                        grads.size() - outputs));
            }
        };
    }

    /** {@code activation'(y) · (conv(dx, w) + conv(x, dw) + db)}. */
    @Override
    protected Tensor jvp(Attributes attributes, Values primals, Tensor[] tangents) {
        Tensor pre = convolutionJvp(attributes.spec(), primals, tangents, Compute.shape(primals.output()));
        if (pre == null || attributes.activation() == Activation.IDENTITY) {
            return pre;
        }
        return pre.mul(Pointwise.of(attributes.activation()).factor(primals.output(), 0f));
    }

    /**
     * The tangent of {@code conv2d(x, w) + b}: {@code conv(dx, w) + conv(x, dw) + db}, or
     * {@code null} when no input has a tangent.
     *
     * @param shape the convolution's output shape, which {@code db} is broadcast to alone
     */
    static Tensor convolutionJvp(Conv2d.Spec spec, Values primals, Tensor[] tangents, int[] shape) {
        Tensor dx = tangents[0];
        Tensor dw = tangents[1];
        Tensor db = tangents.length > 2 ? tangents[2] : null;
        Tensor pre = Add.sum(dx == null ? null : Conv2d.convolve(dx, primals.input(1), spec),
                dw == null ? null : Conv2d.convolve(primals.input(0), dw, spec));
        if (db != null) {
            Tensor channels = Reshape.apply(db, 1, Compute.shape(db)[0], 1, 1);
            pre = pre == null ? BroadcastTo.apply(channels, shape) : pre.add(channels);
        }
        return pre;
    }
}
