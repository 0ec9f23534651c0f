package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.ConvGeometry;
import org.adjoint.backend.UnaryOp;
import org.adjoint.internal.Compute;

/**
 * The three computations of a 2-D convolution, shared by {@link Conv2d}, {@link ConvActivation},
 * {@link ConvInputGrad} and {@link ConvWeightGrad}, which check shapes before calling: each allocates its result and
 * hands it to the backend ({@link org.adjoint.backend.ConvolutionOps#conv2d},
 * {@code conv2dInputGrad}, {@code conv2dWeightGrad}), whose defaults unfold windows into
 * columns and multiply; the CPU backend packs the columns straight from the images instead.
 */
final class ConvGemm {

    private ConvGemm() {
    }

    /**
     * Sizes of one convolution, from the input's and the weight's shapes.
     *
     * @param images   N
     * @param geometry the window over one image of C channels
     * @param outputs  O, output channels
     * @param groups   G
     */
    record Sizes(int images, ConvGeometry geometry, int outputs, int groups) {

        static Sizes of(int[] input, int[] weight, Conv2d.Spec spec) {
            return new Sizes(input[0], new ConvGeometry(input[1], input[2], input[3], weight[2], weight[3],
                    spec.stride(), spec.padding(), spec.dilation()), weight[0], spec.groups());
        }

        int[] inputShape() {
            return new int[] {images, geometry.channels(), geometry.height(), geometry.width()};
        }

        int[] weightShape() {
            return new int[] {outputs, geometry.channels() / groups, geometry.kernelHeight(), geometry.kernelWidth()};
        }

        int[] outputShape() {
            return new int[] {images, outputs, geometry.outHeight(), geometry.outWidth()};
        }

        long weightSize() {
            return (long) outputs * geometry.columnRows() / groups;
        }
    }

    /**
     * {@code y = conv(x, w)}.
     *
     * @param sizes  the sizes
     * @param input  {@code [N, C, H, W]}
     * @param weight {@code [O, C/G, kH, kW]}
     * @return {@code [N, O, H', W']}
     */
    static Tensor forward(Sizes sizes, Tensor input, Tensor weight) {
        Backend backend = Compute.backend("conv2d", input, weight);
        int[] outShape = sizes.outputShape();
        // The backend writes every element.
        Buffer y = Compute.allocateUninitialized(backend,
                (long) sizes.images() * sizes.outputs() * sizes.geometry().columnCols());
        backend.conv2d(Compute.buffer(input), Compute.buffer(weight), sizes.geometry(), sizes.images(), sizes.outputs(),
                sizes.groups(), y);
        return Compute.wrap(backend, y, outShape);
    }

    /**
     * {@code y = activation(conv(x, w) + b)} ({@link org.adjoint.backend.ConvolutionOps#conv2dBiasActivation}).
     *
     * @param sizes      the sizes
     * @param input      {@code [N, C, H, W]}
     * @param weight     {@code [O, C/G, kH, kW]}
     * @param bias       {@code [O]}, or {@code null}
     * @param activation the backend's function, or {@code null} for none
     * @return {@code [N, O, H', W']}
     */
    static Tensor forward(Sizes sizes, Tensor input, Tensor weight, Tensor bias, UnaryOp activation) {
        Backend backend = bias == null ? Compute.backend("conv2d", input, weight)
                : Compute.backend("conv2d", input, weight, bias);
        Buffer y = Compute.allocateUninitialized(backend,
                (long) sizes.images() * sizes.outputs() * sizes.geometry().columnCols());
        backend.conv2dBiasActivation(Compute.buffer(input), Compute.buffer(weight),
                bias == null ? null : Compute.buffer(bias), activation, sizes.geometry(), sizes.images(),
                sizes.outputs(), sizes.groups(), y);
        return Compute.wrap(backend, y, sizes.outputShape());
    }

    /**
     * {@code dx}, the adjoint of {@link #forward} in {@code x}.
     *
     * @param sizes      the sizes
     * @param outputGrad {@code [N, O, H', W']}
     * @param weight     {@code [O, C/G, kH, kW]}
     * @return {@code [N, C, H, W]}
     */
    static Tensor inputGrad(Sizes sizes, Tensor outputGrad, Tensor weight) {
        return inputGrad(sizes, Compute.backend("conv2d", outputGrad, weight), Compute.buffer(outputGrad), weight);
    }

    /**
     * {@link #inputGrad(Sizes, Tensor, Tensor)} from a buffer that starts with {@code dy}
     * (a fused backward pass's buffer, with the bias gradient after it).
     *
     * @param sizes      the sizes
     * @param backend    the backend that holds both
     * @param outputGrad {@code [N, O, H', W']} at its start
     * @param weight     {@code [O, C/G, kH, kW]}
     * @return {@code [N, C, H, W]}
     */
    static Tensor inputGrad(Sizes sizes, Backend backend, Buffer outputGrad, Tensor weight) {
        int[] inShape = sizes.inputShape();
        Buffer dx = Compute.allocateUninitialized(backend, (long) sizes.images() * sizes.geometry().imageSize());
        backend.conv2dInputGrad(outputGrad, Compute.buffer(weight), sizes.geometry(), sizes.images(),
                sizes.outputs(), sizes.groups(), dx);
        return Compute.wrap(backend, dx, inShape);
    }

    /**
     * {@code dw}, the adjoint of {@link #forward} in {@code w}: {@code Σ_images dy_g · columns_gᵀ},
     * the images summed in order whatever the thread count.
     *
     * @param sizes      the sizes
     * @param input      {@code [N, C, H, W]}
     * @param outputGrad {@code [N, O, H', W']}
     * @return {@code [O, C/G, kH, kW]}
     */
    static Tensor weightGrad(Sizes sizes, Tensor input, Tensor outputGrad) {
        return weightGrad(sizes, Compute.backend("conv2d", input, outputGrad), input, Compute.buffer(outputGrad));
    }

    /**
     * {@link #weightGrad(Sizes, Tensor, Tensor)} from a buffer that starts with {@code dy}.
     *
     * @param sizes      the sizes
     * @param backend    the backend that holds both
     * @param input      {@code [N, C, H, W]}
     * @param outputGrad {@code [N, O, H', W']} at its start
     * @return {@code [O, C/G, kH, kW]}
     */
    static Tensor weightGrad(Sizes sizes, Backend backend, Tensor input, Buffer outputGrad) {
        int[] weightShape = sizes.weightShape();
        Buffer dw = Compute.allocateUninitialized(backend, sizes.weightSize());
        backend.conv2dWeightGrad(Compute.buffer(input), outputGrad, sizes.geometry(), sizes.images(),
                sizes.outputs(), sizes.groups(), dw);
        return Compute.wrap(backend, dw, weightShape);
    }
}
