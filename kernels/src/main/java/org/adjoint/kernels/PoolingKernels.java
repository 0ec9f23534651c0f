package org.adjoint.kernels;

/**
 * The 2-D pooling of a {@link KernelProvider}, maximum and average, with their VJPs. The
 * defaults are the scalar loops of {@link Pooling}; every provider gives the same bits.
 */
public interface PoolingKernels {

    /**
     * Max pooling with the argmax of each window, as {@link Pooling#maxPool}; the same bits from
     * every provider.
     *
     * @param in     {@code [planes, height, width]}
     * @param window the sizes
     * @param values output, {@code [planes, outHeight, outWidth]}
     * @param argmax output of the same size, or {@code null}
     */
    default void maxPool(float[] in, Pooling.Window window, float[] values, float[] argmax) {
        Pooling.maxPool(in, window, values, argmax);
    }

    /**
     * The tap of each window that the argmax names, as {@link Pooling#maxPoolGather}.
     *
     * @param in     {@code [planes, height, width]}
     * @param argmax {@code [planes, outHeight, outWidth]}
     * @param window the sizes
     * @param out    output, {@code [planes, outHeight, outWidth]}
     */
    default void maxPoolGather(float[] in, float[] argmax, Pooling.Window window, float[] out) {
        Pooling.maxPoolGather(in, argmax, window, out);
    }

    /**
     * The VJP of max pooling, as {@link Pooling#maxPoolScatter}; the same bits from every provider.
     *
     * @param grad   {@code [planes, outHeight, outWidth]}
     * @param argmax {@code [planes, outHeight, outWidth]}
     * @param window the sizes
     * @param out    output, {@code [planes, height, width]}
     */
    default void maxPoolScatter(float[] grad, float[] argmax, Pooling.Window window, float[] out) {
        Pooling.maxPoolScatter(grad, argmax, window, out);
    }

    /**
     * The VJP of {@code maxPool(relu(y))} from the pooled values, for windows that do not
     * overlap, with the bias gradient in the same pass, as
     * {@link PooledReluGrad#maxPoolReluGrad(float[], float[], float[], Pooling.Window, int, boolean, float[])}:
     * the bits of this provider's {@link #maxPoolScatter} followed by its
     * {@link ConvolutionKernels#channelReluGrad}.
     *
     * @param values   the pooled values {@code [images, channels, outHeight, outWidth]}
     * @param argmax   their taps
     * @param grad     the cotangent of the pooled values
     * @param window   the pooling over the planes of {@code y}
     * @param channels channels per image
     * @param biasGrad whether to write the bias gradient
     * @param grads    output: {@code g}, then the bias gradient with {@code biasGrad}
     */
    default void maxPoolReluGrad(float[] values, float[] argmax, float[] grad, Pooling.Window window, int channels,
                                 boolean biasGrad, float[] grads) {
        PooledReluGrad.maxPoolReluGrad(values, argmax, grad, window, channels, biasGrad, grads);
    }

    /**
     * Average pooling, as {@link Pooling#avgPool}.
     *
     * @param in     {@code [planes, height, width]}
     * @param window the sizes
     * @param out    output, {@code [planes, outHeight, outWidth]}
     */
    default void avgPool(float[] in, Pooling.Window window, float[] out) {
        Pooling.avgPool(in, window, out);
    }

    /**
     * The VJP of average pooling, as {@link Pooling#avgPoolScatter}.
     *
     * @param grad   {@code [planes, outHeight, outWidth]}
     * @param window the sizes
     * @param out    output, {@code [planes, height, width]}
     */
    default void avgPoolScatter(float[] grad, Pooling.Window window, float[] out) {
        Pooling.avgPoolScatter(grad, window, out);
    }
}
