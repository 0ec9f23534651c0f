package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;

/**
 * The input gradient of {@link Conv2d}, a transposed convolution: {@code dx [N, C, H, W]} from
 * {@code dy [N, O, H', W']} and {@code w [O, C/G, kH, kW]}, {@code col2im(W_gᵀ · dy_g)}. The
 * attributes carry {@code H} and {@code W}, which {@code dy} does not determine when the
 * stride skips rows. Bilinear, and the adjoint of {@code x ↦ conv(x, w)}, so its VJPs are
 * {@code conv(v, w)} for {@code dy} and {@link ConvWeightGrad}{@code (v, dy)} for
 * {@code w}, with {@code v} the cotangent of {@code dx}.
 */
final class ConvInputGrad extends Primitive<ConvInputGrad.Attributes> {

    private static final ConvInputGrad INPUT_GRAD = new ConvInputGrad();

    /**
     * The convolution's attributes and the size of its input images.
     *
     * @param spec   the convolution
     * @param height rows of the input images
     * @param width  columns of the input images
     */
    record Attributes(Conv2d.Spec spec, int height, int width) {
    }

    private ConvInputGrad() {
        super("conv2d input gradient");
    }

    static Tensor apply(Tensor outputGrad, Tensor weight, Conv2d.Spec spec, int height, int width) {
        return Ops.apply(INPUT_GRAD, new Attributes(spec, height, width), outputGrad, weight);
    }

    @Override
    protected Tensor forward(Attributes attributes, Tensor[] inputs, Residuals residuals) {
        int[] dys = Compute.shape(inputs[0]);
        int[] ws = Compute.shape(inputs[1]);
        int[] xs = {dys[0], ws[1] * attributes.spec().groups(), attributes.height(), attributes.width()};
        return ConvGemm.inputGrad(ConvGemm.Sizes.of(xs, ws, attributes.spec()), inputs[0], inputs[1]);
    }

    @Override
    protected boolean savesInput(Attributes attributes, int index, Tensor[] inputs) {
        return Mul.readByOther(index, inputs);
    }

    @Override
    protected Tensor vjp(Attributes attributes, Values saved, int input, Tensor cotangent) {
        if (input == 0) {
            return Conv2d.convolve(cotangent, saved.input(1), attributes.spec());
        }
        int[] ws = saved.inputShape(1);
        return ConvWeightGrad.apply(cotangent, saved.input(0), attributes.spec(), ws[2], ws[3]);
    }

    @Override
    protected Tensor jvp(Attributes attributes, Values primals, Tensor[] tangents) {
        Tensor tdy = tangents[0];
        Tensor tw = tangents[1];
        return Add.sum(
                tdy == null ? null : apply(tdy, primals.input(1), attributes.spec(), attributes.height(), attributes.width()),
                tw == null ? null : apply(primals.input(0), tw, attributes.spec(), attributes.height(), attributes.width()));
    }
}
