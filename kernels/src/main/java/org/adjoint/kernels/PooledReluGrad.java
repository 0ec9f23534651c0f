package org.adjoint.kernels;

import java.util.Arrays;

/**
 * The backward pass of a ReLU convolution's non-overlapping max pooling, up to the convolution:
 * the cotangent of the convolution's output (bias included) written straight from the pooled
 * values, their argmax and their cotangent, one plane at a time, each plane summed into its
 * channel's bias gradient right after it is written. The scatter and the ReLU pass it replaces
 * are {@link Pooling#maxPoolScatter} and {@link ChannelBias#reluGrad}; the plane scatter and
 * the plane sum are a provider's ({@link VectorPooling#scatterReluPlane} and
 * {@link VectorChannelBias#sumPlane} for the vector one).
 */
public final class PooledReluGrad {

    private PooledReluGrad() {
    }

    /**
     * The VJP of {@code maxPool(relu(y))} for windows that do not overlap, up to the
     * convolution under it ({@code y} a convolution's output plus its bias), from the pooled
     * values alone: {@code g} of {@code y}'s shape holds {@code (0 + grad[o]) · step(values[o])}
     * on window {@code o}'s argmax tap and +0 elsewhere, the bits of {@link Pooling#maxPoolScatter}
     * followed by {@link ChannelBias#reluGrad(float[], float[], float[], boolean, int, int, int)}
     * (the ReLU's output at the argmax tap is the pooled value, and {@code +0 · step} is +0
     * wherever no window's maximum lies); with {@code biasGrad}, each channel's sum of
     * {@code g} after it, summed as that pass sums it. Neither {@code y} nor the scattered
     * cotangent is stored.
     *
     * @param values   the pooled values {@code [images, channels, outHeight, outWidth]}
     * @param argmax   their taps, as {@link Pooling#maxPool} writes them
     * @param grad     the cotangent of the pooled values
     * @param window   the pooling over the {@code images · channels} planes of {@code y}
     * @param channels channels per image
     * @param biasGrad whether to write the sums
     * @param grads    output: {@code g} in {@code [0, n)}, {@code n} the planes' size, the sums
     *                 in {@code [n, n + channels)} with {@code biasGrad}
     * @throws IllegalArgumentException when windows overlap, the channels do not divide the
     *                                  planes, an array is too short or an argmax entry is not
     *                                  a tap number
     */
    public static void maxPoolReluGrad(float[] values, float[] argmax, float[] grad, Pooling.Window window, int channels,
                                       boolean biasGrad, float[] grads) {
        maxPoolReluGrad((gr, taps, v, w, out, plane) -> Pooling.maxScatterPlanes(gr, taps, v, w, out, plane, plane + 1),
                PooledReluGrad::sumPlane, values, argmax, grad, window, channels, biasGrad, grads);
    }

    /** One plane of {@link #maxPoolReluGrad}'s {@code g}, overwritten. */
    @FunctionalInterface
    interface ReluPlane {
        void scatter(float[] grad, float[] argmax, float[] values, Pooling.Window window, float[] out, int plane);
    }

    /** A stored plane's sum added to a running total, in a provider's order. */
    @FunctionalInterface
    interface PlaneSum {
        float add(float[] g, int at, int length, float total);
    }

    /**
     * {@link #maxPoolReluGrad(float[], float[], float[], Pooling.Window, int, boolean, float[])} with a
     * provider's plane scatter and sum; threads take channels, as {@link ChannelBias#reluGrad}
     * does, so each sum is one thread's, in image order.
     */
    static void maxPoolReluGrad(ReluPlane scatter, PlaneSum sum, float[] values, float[] argmax, float[] grad,
                                Pooling.Window window, int channels, boolean biasGrad, float[] grads) {
        String operation = "maxPoolReluGrad";
        if ((long) window.dilation() * (window.kernelHeight() - 1) + 1 > window.stride()
                || (long) window.dilation() * (window.kernelWidth() - 1) + 1 > window.stride()) {
            throw new IllegalArgumentException(operation + ": the windows overlap (window " + window.kernelHeight()
                    + "x" + window.kernelWidth() + ", dilation " + window.dilation() + ", stride " + window.stride()
                    + "); only windows that do not overlap have one cotangent per element");
        }
        if (channels < 1 || window.planes() % channels != 0) {
            throw new IllegalArgumentException(operation + ": " + channels + " channels do not divide the "
                    + window.planes() + " planes");
        }
        window.require(operation, "the values", values, window.outputSize());
        Pooling.checkScatter(operation, grad, argmax, window, grads);
        long n = window.inputSize();
        if (biasGrad) {
            window.require(operation, "the gradients and bias gradient", grads, n + channels);
        }
        int images = window.planes() / channels;
        int positions = window.height() * window.width();
        int total = Math.toIntExact(n);
        Parallel.rows(channels, Math.max(1, ElementWise.MEMORY_GRAIN / Math.max(1, images * positions)),
                (first, end) -> {
                    if (biasGrad) {
                        Arrays.fill(grads, total + first, total + end, 0f);
                    }
                    for (int image = 0; image < images; image++) {
                        for (int c = first; c < end; c++) {
                            int plane = image * channels + c;
                            scatter.scatter(grad, argmax, values, window, grads, plane);
                            if (biasGrad) {
                                grads[total + c] = sum.add(grads, plane * positions, positions, grads[total + c]);
                            }
                        }
                    }
                });
    }

    /** {@link PlaneSum} in order, as {@link ChannelBias}'s scalar plane adds its products. */
    private static float sumPlane(float[] g, int at, int length, float total) {
        float sum = total;
        for (int i = at; i < at + length; i++) {
            sum += g[i];
        }
        return sum;
    }
}
