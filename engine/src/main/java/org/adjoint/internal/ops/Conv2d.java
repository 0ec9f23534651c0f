package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * 2-D convolution (cross-correlation, as in PyTorch) of images {@code x [N, C, H, W]} with a
 * weight {@code w [O, C/G, kH, kW]}: {@code y [N, O, H', W']}, computed by the backend
 * ({@link ConvGemm}): by default im2col and one GEMM per group. It is bilinear, and each of its VJPs is again one of three
 * bilinear primitives, as JAX writes its convolution: {@code dx = }{@link ConvInputGrad}{@code (dy, w)}
 * (a transposed convolution) and {@code dw = }{@link ConvWeightGrad}{@code (x, dy)}; the VJPs of
 * those two are written with the other two and this one, so derivatives of any order exist.
 * Saves {@code x} only when {@code w} needs a gradient and {@code w} only when {@code x} does.
 * The bias is a broadcast {@link Add}, outside the primitive; {@link ConvActivation} is the
 * convolution with its bias and activation as one primitive.
 */
public final class Conv2d extends Primitive<Conv2d.Spec> {

    private static final String NAME = "conv2d";
    private static final Conv2d CONV2D = new Conv2d();

    /**
     * The attributes every convolution primitive shares.
     *
     * @param stride   step between windows, at least 1
     * @param padding  zeros added on every side, at least 0
     * @param dilation step between taps, at least 1
     * @param groups   how many independent groups of channels, at least 1
     */
    public record Spec(int stride, int padding, int dilation, int groups) {
    }

    private Conv2d() {
        super(NAME);
    }

    /**
     * {@code torch.nn.functional.conv2d}: checks the arguments, convolves, and adds the bias.
     *
     * @param input    {@code [N, C, H, W]}
     * @param weight   {@code [O, C/groups, kH, kW]}
     * @param bias     {@code [O]}, or {@code null}
     * @param stride   step between windows
     * @param padding  zeros added on every side
     * @param dilation step between taps
     * @param groups   channel groups; {@code groups} divides {@code C} and {@code O}
     * @return {@code [N, O, H', W']}
     * @throws IllegalArgumentException naming {@code conv2d} and the shapes when they do not fit
     */
    public static Tensor apply(Tensor input, Tensor weight, Tensor bias, int stride, int padding, int dilation,
                               int groups) {
        Spec spec = checkLayer(input, weight, bias, stride, padding, dilation, groups);
        Tensor output = Ops.apply(CONV2D, spec, input, weight);
        if (bias == null) {
            return output;
        }
        return Add.apply(output, Reshape.apply(bias, 1, Compute.shape(weight)[0], 1, 1));
    }

    /**
     * Checks a convolution layer's operands and attributes, as every primitive that convolves
     * ({@link ConvActivation}, {@link ConvMaxPool}) takes them.
     *
     * @return the attributes
     * @throws IllegalArgumentException naming {@code conv2d} and the shapes when they do not fit
     */
    static Spec checkLayer(Tensor input, Tensor weight, Tensor bias, int stride, int padding, int dilation,
                           int groups) {
        if (input == null || weight == null) {
            throw new IllegalArgumentException(NAME + ": input and weight must not be null");
        }
        Spec spec = new Spec(stride, padding, dilation, groups);
        int[] ws = Compute.shape(weight);
        check(Compute.shape(input), ws, spec);
        if (bias != null) {
            checkBias(Compute.shape(bias), ws);
        }
        return spec;
    }

    /** Refuses a bias that is not one value per output channel of weight {@code ws}. */
    static void checkBias(int[] bs, int[] ws) {
        if (bs.length != 1 || bs[0] != ws[0]) {
            throw new IllegalArgumentException(NAME + ": bias must be [" + ws[0] + "] (one per output channel of weight "
                    + Shapes.str(ws) + "), got " + Shapes.str(bs));
        }
    }

    /** Refuses an input, weight and attributes that do not form a convolution, naming them. */
    static void check(int[] xs, int[] ws, Spec spec) {
        String operands = " (input " + Shapes.str(xs) + ", weight " + Shapes.str(ws) + ")";
        if (xs.length != 4) {
            throw new IllegalArgumentException(NAME + ": input must have rank 4 [N, C, H, W], got " + Shapes.str(xs));
        }
        if (ws.length != 4) {
            throw new IllegalArgumentException(NAME + ": weight must have rank 4 [O, C/groups, kH, kW], got "
                    + Shapes.str(ws));
        }
        if (spec.stride() < 1) {
            throw new IllegalArgumentException(NAME + ": stride must be at least 1, got " + spec.stride() + operands);
        }
        if (spec.dilation() < 1) {
            throw new IllegalArgumentException(NAME + ": dilation must be at least 1, got " + spec.dilation() + operands);
        }
        if (spec.padding() < 0) {
            throw new IllegalArgumentException(NAME + ": padding must not be negative, got " + spec.padding() + operands);
        }
        int groups = spec.groups();
        if (groups < 1) {
            throw new IllegalArgumentException(NAME + ": groups must be at least 1, got " + groups + operands);
        }
        if (xs[1] == 0 || ws[0] == 0 || ws[1] == 0) {
            throw new IllegalArgumentException(NAME + ": channels must not be empty" + operands);
        }
        if (ws[2] < 1 || ws[3] < 1) {
            throw new IllegalArgumentException(NAME + ": the kernel must be at least 1x1, got " + ws[2] + "x" + ws[3]
                    + operands);
        }
        if (xs[1] % groups != 0) {
            throw new IllegalArgumentException(NAME + ": groups " + groups + " does not divide the input's " + xs[1]
                    + " channels" + operands);
        }
        if (ws[0] % groups != 0) {
            throw new IllegalArgumentException(NAME + ": groups " + groups + " does not divide the weight's " + ws[0]
                    + " output channels" + operands);
        }
        if ((long) ws[1] * groups != xs[1]) {
            throw new IllegalArgumentException(NAME + ": input has " + xs[1] + " channels but the weight expects "
                    + ws[1] + " per group × " + groups + " groups = " + (long) ws[1] * groups + operands);
        }
        long spanH = (long) spec.dilation() * (ws[2] - 1) + 1;
        long spanW = (long) spec.dilation() * (ws[3] - 1) + 1;
        long paddedH = xs[2] + 2L * spec.padding();
        long paddedW = xs[3] + 2L * spec.padding();
        if (spanH > paddedH || spanW > paddedW) {
            throw new IllegalArgumentException(NAME + ": kernel " + ws[2] + "x" + ws[3] + " with dilation "
                    + spec.dilation() + " spans " + spanH + "x" + spanW + ", larger than the padded input " + paddedH
                    + "x" + paddedW + " (padding " + spec.padding() + ")" + operands);
        }
        long outH = (paddedH - spanH) / spec.stride() + 1;
        long outW = (paddedW - spanW) / spec.stride() + 1;
        if (outH > Integer.MAX_VALUE || outW > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(NAME + ": the output would be " + outH + "x" + outW + " per image, "
                    + "more than a dimension holds (" + Integer.MAX_VALUE + ")" + operands);
        }
    }

    /**
     * The primitive alone, for rules: arguments already consistent.
     *
     * @param input  {@code [N, C, H, W]}
     * @param weight {@code [O, C/G, kH, kW]}
     * @param spec   the attributes
     * @return {@code [N, O, H', W']}
     */
    static Tensor convolve(Tensor input, Tensor weight, Spec spec) {
        return Ops.apply(CONV2D, spec, input, weight);
    }

    @Override
    protected Tensor forward(Spec spec, Tensor[] inputs, Residuals residuals) {
        ConvGemm.Sizes sizes = ConvGemm.Sizes.of(Compute.shape(inputs[0]), Compute.shape(inputs[1]), spec);
        return ConvGemm.forward(sizes, inputs[0], inputs[1]);
    }

    @Override
    protected boolean savesInput(Spec spec, int index, Tensor[] inputs) {
        return Mul.readByOther(index, inputs);
    }

    @Override
    protected Tensor vjp(Spec spec, Values saved, int input, Tensor cotangent) {
        if (input == 0) {
            int[] xs = saved.inputShape(0);
            return ConvInputGrad.apply(cotangent, saved.input(1), spec, xs[2], xs[3]);
        }
        int[] ws = saved.inputShape(1);
        return ConvWeightGrad.apply(saved.input(0), cotangent, spec, ws[2], ws[3]);
    }

    @Override
    protected Tensor jvp(Spec spec, Values primals, Tensor[] tangents) {
        Tensor tx = tangents[0];
        Tensor tw = tangents[1];
        return Add.sum(tx == null ? null : convolve(tx, primals.input(1), spec),
                tw == null ? null : convolve(primals.input(0), tw, spec));
    }
}
