package org.adjoint.kernels;

/**
 * The 2-D convolutions of a {@link KernelProvider}: the implicit-GEMM forward and gradients
 * (which a provider may lack, see {@link #implicitConvolution}), the folded input gradient
 * composed from {@link #sgemm}, and the per-channel bias and ReLU that a fused layer applies.
 */
public interface ConvolutionKernels extends GemmKernels {

    /**
     * The provider's short name, for the messages of the methods it does not have.
     *
     * @return e.g. {@code vector}
     */
    String name();

    /**
     * Whether {@link #conv2d}, {@link #conv2dInputGrad} and {@link #conv2dWeightGrad} run here,
     * as implicit GEMMs that pack the columns of the windows straight from the images instead
     * of unfolding them (im2col) first. When {@code false} those methods throw, and callers
     * unfold columns and multiply with {@link #sgemmBatched} themselves.
     *
     * @return {@code true} for the vector provider
     */
    default boolean implicitConvolution() {
        return false;
    }

    /**
     * A 2-D convolution (cross-correlation, as in PyTorch) of contiguous NCHW images:
     * {@code y [images, outputs, outHeight, outWidth] = conv(x [images, channels, height, width],
     * w [outputs, channels/groups, kernelHeight, kernelWidth])}, overwriting {@code y}. Each
     * element of {@code y} sums its products in the order of the weight's elements (channel,
     * tap row, tap column) with this provider's GEMM roundings, whatever the thread count.
     * Arguments are trusted: the caller has checked that they fit.
     *
     * @param x            images
     * @param w            weight
     * @param y            output, overwritten
     * @param images       N
     * @param channels     C, a multiple of {@code groups}
     * @param height       H
     * @param width        W
     * @param outputs      O, a multiple of {@code groups}
     * @param groups       channel groups
     * @param kernelHeight rows of the window
     * @param kernelWidth  columns of the window
     * @param stride       step between windows
     * @param padding      zeros on every side
     * @param dilation     step between taps
     * @throws UnsupportedOperationException when {@link #implicitConvolution()} is {@code false}
     */
    default void conv2d(float[] x, float[] w, float[] y, int images, int channels, int height, int width, int outputs,
                        int groups, int kernelHeight, int kernelWidth, int stride, int padding, int dilation) {
        throw new UnsupportedOperationException(name() + " kernels: no implicit convolution");
    }

    /**
     * The input gradient of {@link #conv2d} for stride 1, overwriting
     * {@code dx [images, channels, height, width]} from {@code dy [images, outputs, outHeight, outWidth]}:
     * the convolution of {@code dy} with the weight flipped and transposed, so each element sums
     * in the order (output channel, tap row, tap column) of the flipped weight.
     *
     * @param dy           the output's cotangent
     * @param w            weight {@code [outputs, channels/groups, kernelHeight, kernelWidth]}
     * @param dx           output, overwritten
     * @param images       N
     * @param channels     C
     * @param height       H
     * @param width        W
     * @param outputs      O
     * @param groups       channel groups
     * @param kernelHeight rows of the window
     * @param kernelWidth  columns of the window
     * @param padding      zeros on every side of the forward input
     * @param dilation     step between taps
     * @throws UnsupportedOperationException when {@link #implicitConvolution()} is {@code false}
     */
    default void conv2dInputGrad(float[] dy, float[] w, float[] dx, int images, int channels, int height, int width,
                                 int outputs, int groups, int kernelHeight, int kernelWidth, int padding,
                                 int dilation) {
        throw new UnsupportedOperationException(name() + " kernels: no implicit convolution");
    }

    /**
     * The input gradient of a convolution of any stride, overwriting
     * {@code dx [images, channels, height, width]} from {@code dy [images, outputs, outHeight, outWidth]}:
     * {@code col2im(W_gᵀ · dy_g)} one image at a time, each image's columns multiplied with
     * {@link #sgemm} into a buffer and folded into {@code dx} while they are in cache, with
     * the bits of the GEMMs and col2im run one after the other over all the images. Provided
     * by both providers; the vector one computes the same sums for stride 1 without writing
     * the columns ({@link DirectConv}), with the same bits, wherever it applies. Arguments are
     * trusted: the caller has checked that they fit.
     *
     * @param dy           the output's cotangent
     * @param w            weight {@code [outputs, channels/groups, kernelHeight, kernelWidth]}
     * @param dx           output, overwritten
     * @param images       N
     * @param channels     C, a multiple of {@code groups}
     * @param height       H
     * @param width        W
     * @param outputs      O, a multiple of {@code groups}
     * @param groups       channel groups
     * @param kernelHeight rows of the window
     * @param kernelWidth  columns of the window
     * @param stride       step between windows
     * @param padding      zeros on every side of the forward input
     * @param dilation     step between taps
     */
    default void conv2dInputGradFolded(float[] dy, float[] w, float[] dx, int images, int channels, int height,
                                       int width, int outputs, int groups, int kernelHeight, int kernelWidth,
                                       int stride, int padding, int dilation) {
        FoldedConv.inputGrad(this, Im2col.SCALAR_ADDER, dy, w, dx, images, channels, height, width, outputs, groups, kernelHeight,
                kernelWidth, stride, padding, dilation);
    }

    /**
     * The weight gradient of {@link #conv2d}, overwriting
     * {@code dw [outputs, channels/groups, kernelHeight, kernelWidth]} with
     * {@code Σ_images dy_g · columns_g(x)ᵀ}: images in order, each adding its positions'
     * products in order, whatever the thread count.
     *
     * @param x            images {@code [images, channels, height, width]}
     * @param dy           the output's cotangent {@code [images, outputs, outHeight, outWidth]}
     * @param dw           output, overwritten
     * @param images       N
     * @param channels     C
     * @param height       H
     * @param width        W
     * @param outputs      O
     * @param groups       channel groups
     * @param kernelHeight rows of the window
     * @param kernelWidth  columns of the window
     * @param stride       step between windows
     * @param padding      zeros on every side
     * @param dilation     step between taps
     * @throws UnsupportedOperationException when {@link #implicitConvolution()} is {@code false}
     */
    default void conv2dWeightGrad(float[] x, float[] dy, float[] dw, int images, int channels, int height, int width,
                                  int outputs, int groups, int kernelHeight, int kernelWidth, int stride, int padding,
                                  int dilation) {
        throw new UnsupportedOperationException(name() + " kernels: no implicit convolution");
    }

    /**
     * Whether {@link #conv2dWeightGrad} reads this convolution's windows straight from the
     * images ({@link DirectWeightGrad}: 3×3, stride 1, padding equal to the dilation, one input
     * channel per group) where its columns would be too narrow for the implicit GEMM: then it
     * is worth calling however few rows the columns have.
     *
     * @param channels     C
     * @param height       H
     * @param width        W
     * @param outputs      O
     * @param groups       channel groups
     * @param kernelHeight rows of the window
     * @param kernelWidth  columns of the window
     * @param stride       step between windows
     * @param padding      zeros on every side
     * @param dilation     step between taps
     * @return {@code false} unless the provider has such a kernel
     */
    default boolean directConv2dWeightGrad(int channels, int height, int width, int outputs, int groups,
                                           int kernelHeight, int kernelWidth, int stride, int padding, int dilation) {
        return false;
    }

    /**
     * {@link #conv2d}, then {@code y[n, o, p] = max(y[n, o, p] + bias[o], 0)} (the bias or the
     * ReLU left out when not asked), each element rounded as the convolution, the addition and
     * the ReLU one after the other round it. The default runs {@link #conv2d} and then
     * {@link #channelBiasRelu}; the vector provider applies both as it copies each image's
     * result out of its scratch.
     *
     * @param x            images
     * @param w            weight
     * @param bias         {@code outputs} values, or {@code null} for none
     * @param relu         whether to apply {@code max(·, 0)}
     * @param y            output, overwritten
     * @param images       N
     * @param channels     C, a multiple of {@code groups}
     * @param height       H
     * @param width        W
     * @param outputs      O, a multiple of {@code groups}
     * @param groups       channel groups
     * @param kernelHeight rows of the window
     * @param kernelWidth  columns of the window
     * @param stride       step between windows
     * @param padding      zeros on every side
     * @param dilation     step between taps
     * @throws UnsupportedOperationException when {@link #implicitConvolution()} is {@code false}
     */
    default void conv2dBiasRelu(float[] x, float[] w, float[] bias, boolean relu, float[] y, int images, int channels,
                                int height, int width, int outputs, int groups, int kernelHeight, int kernelWidth,
                                int stride, int padding, int dilation) {
        conv2d(x, w, y, images, channels, height, width, outputs, groups, kernelHeight, kernelWidth, stride, padding,
                dilation);
        int outHeight = (height + 2 * padding - dilation * (kernelHeight - 1) - 1) / stride + 1;
        int outWidth = (width + 2 * padding - dilation * (kernelWidth - 1) - 1) / stride + 1;
        channelBiasRelu(y, bias, relu, images, outputs, outHeight * outWidth);
    }

    /**
     * Whether {@link #conv2dBiasReluMaxPool} runs for this convolution.
     *
     * @param images       N
     * @param channels     C
     * @param height       H
     * @param width        W
     * @param outputs      O
     * @param groups       channel groups
     * @param kernelHeight rows of the window
     * @param kernelWidth  columns of the window
     * @param stride       step between windows
     * @param padding      zeros on every side
     * @param dilation     step between taps
     * @return {@code false} here; the vector provider's direct convolutions pool as they copy out
     */
    default boolean poolsConvolution(int images, int channels, int height, int width, int outputs, int groups,
                                     int kernelHeight, int kernelWidth, int stride, int padding, int dilation) {
        return false;
    }

    /**
     * {@link #conv2dBiasRelu} followed by max pooling over 2 × 2 windows of stride 2
     * ({@link Pooling.Window#halving}), the convolution's output never stored: the bits of
     * those two calls ({@link PoolingKernels#maxPool}, its argmax too).
     *
     * @param x            images
     * @param w            weight {@code [outputs, channels/groups, kernelHeight, kernelWidth]}
     * @param bias         {@code outputs} values, or {@code null} for none
     * @param relu         whether to apply {@code max(·, 0)} before pooling
     * @param values       output {@code [images, outputs, outHeight/2, outWidth/2]}
     * @param argmax       output of the values' size, or {@code null}
     * @param images       N
     * @param channels     C, a multiple of {@code groups}
     * @param height       H
     * @param width        W
     * @param outputs      O, a multiple of {@code groups}
     * @param groups       channel groups
     * @param kernelHeight rows of the window
     * @param kernelWidth  columns of the window
     * @param stride       step between windows
     * @param padding      zeros on every side
     * @param dilation     step between taps
     * @throws UnsupportedOperationException unless {@link #poolsConvolution} holds
     */
    default void conv2dBiasReluMaxPool(float[] x, float[] w, float[] bias, boolean relu, float[] values,
                                       float[] argmax, int images, int channels, int height, int width, int outputs,
                                       int groups, int kernelHeight, int kernelWidth, int stride, int padding,
                                       int dilation) {
        throw new UnsupportedOperationException(name() + " kernels: conv2dBiasReluMaxPool is not provided here "
                + "(poolsConvolution is false)");
    }

    /**
     * A per-channel bias and ReLU in place on NCHW planes, as {@link ChannelBias#biasRelu}.
     *
     * @param y         {@code [images, channels, positions]}, updated
     * @param bias      {@code channels} values, or {@code null} for none
     * @param relu      whether to apply {@code max(·, 0)}
     * @param images    N
     * @param channels  C
     * @param positions P
     */
    default void channelBiasRelu(float[] y, float[] bias, boolean relu, int images, int channels, int positions) {
        ChannelBias.biasRelu(y, bias, relu, images, channels, positions);
    }

    /**
     * The ReLU's VJP on NCHW planes with the bias gradient in the same pass, as
     * {@link ChannelBias#reluGrad(float[], float[], float[], boolean, int, int, int)}: the bits
     * of this provider's {@link ElementWiseKernels#unaryTimes} with STEP and of its
     * {@link ElementWiseKernels#sumTo} of the result to {@code [channels]} when that sums plane by
     * plane (more than one channel, or one image).
     *
     * @param y         the ReLU's output {@code [images, channels, positions]}
     * @param dy        its cotangent
     * @param grads     output: {@code g} in {@code [0, n)}, the sums in {@code [n, n + channels)} with {@code biasGrad}
     * @param biasGrad  whether to write the sums
     * @param images    N
     * @param channels  C
     * @param positions P
     */
    default void channelReluGrad(float[] y, float[] dy, float[] grads, boolean biasGrad, int images, int channels,
                                 int positions) {
        ChannelBias.reluGrad(y, dy, grads, biasGrad, images, channels, positions);
    }
}
