package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;

/**
 * The weight gradient of {@link Conv2d}: {@code dw [O, C/G, kH, kW]} from {@code x [N, C, H, W]}
 * and {@code dy [N, O, H', W']}, {@code Σ_images dy_g · columns_gᵀ}. The attributes carry
 * {@code kH} and {@code kW}. Bilinear, with {@code <dw, u> = <dy, conv(x, u)>}, so its VJPs
 * are {@link ConvInputGrad}{@code (dy, u)} for {@code x} and {@code conv(x, u)} for
 * {@code dy}, with {@code u} the cotangent of {@code dw}.
 */
final class ConvWeightGrad extends Primitive<ConvWeightGrad.Attributes> {

    private static final ConvWeightGrad WEIGHT_GRAD = new ConvWeightGrad();

    /**
     * The convolution's attributes and the size of its kernel.
     *
     * @param spec         the convolution
     * @param kernelHeight rows of the kernel
     * @param kernelWidth  columns of the kernel
     */
    record Attributes(Conv2d.Spec spec, int kernelHeight, int kernelWidth) {
    }

    private ConvWeightGrad() {
        super("conv2d weight gradient");
    }

    static Tensor apply(Tensor input, Tensor outputGrad, Conv2d.Spec spec, int kernelHeight, int kernelWidth) {
        return Ops.apply(WEIGHT_GRAD, new Attributes(spec, kernelHeight, kernelWidth), input, outputGrad);
    }

    @Override
    protected Tensor forward(Attributes attributes, Tensor[] inputs, Residuals residuals) {
        int[] xs = Compute.shape(inputs[0]);
        int[] dys = Compute.shape(inputs[1]);
        int[] ws = {dys[1], xs[1] / attributes.spec().groups(), attributes.kernelHeight(), attributes.kernelWidth()};
        return ConvGemm.weightGrad(ConvGemm.Sizes.of(xs, ws, attributes.spec()), inputs[0], inputs[1]);
    }

    @Override
    protected boolean savesInput(Attributes attributes, int index, Tensor[] inputs) {
        return Mul.readByOther(index, inputs);
    }

    @Override
    protected Tensor vjp(Attributes attributes, Values saved, int input, Tensor cotangent) {
        if (input == 0) {
            int[] xs = saved.inputShape(0);
            return ConvInputGrad.apply(saved.input(1), cotangent, attributes.spec(), xs[2], xs[3]);
        }
        return Conv2d.convolve(saved.input(0), cotangent, attributes.spec());
    }

    @Override
    protected Tensor jvp(Attributes attributes, Values primals, Tensor[] tangents) {
        Tensor tx = tangents[0];
        Tensor tdy = tangents[1];
        return Add.sum(
                tx == null ? null : apply(tx, primals.input(1), attributes.spec(), attributes.kernelHeight(),
                        attributes.kernelWidth()),
                tdy == null ? null : apply(primals.input(0), tdy, attributes.spec(), attributes.kernelHeight(),
                        attributes.kernelWidth()));
    }
}
