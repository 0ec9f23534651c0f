package org.adjoint.kernels;

/**
 * A convolution's tail on NCHW planes, the scalar loops: a per-channel bias and ReLU in place
 * on its output, and backward the ReLU's VJP with the bias gradient summed in the same pass.
 * Each element rounds as the separate operations do: {@code v + b}, then {@link Math#max}
 * with 0 ({@link ElementWise}'s RELU); {@code dy · step(y)} ({@link ElementWise#applyTimes}'s
 * STEP, so −0 and NaN as there); the bias gradient summed plane after plane as
 * {@link Strided#sumTo} sums {@code [images, channels, positions]} into {@code [channels]}.
 */
public final class ChannelBias {

    private ChannelBias() {
    }

    /**
     * {@code y[n, c, p] = relu(y[n, c, p] + bias[c])} in place, the bias or the ReLU left out
     * when not asked.
     *
     * @param y         {@code [images, channels, positions]}, updated
     * @param bias      {@code channels} values, or {@code null} for none
     * @param relu      whether to apply {@code max(·, 0)}
     * @param images    N
     * @param channels  C
     * @param positions P
     */
    public static void biasRelu(float[] y, float[] bias, boolean relu, int images, int channels, int positions) {
        Parallel.rows(images * channels, Math.max(1, ElementWise.MEMORY_GRAIN / Math.max(1, positions)),
                (first, end) -> {
                    for (int plane = first; plane < end; plane++) {
                        biasReluPlane(y, plane * positions, positions, bias == null ? 0f : bias[plane % channels],
                                bias != null, relu);
                    }
                });
    }

    /** One plane of {@link #biasRelu}: {@code length} values from {@code at}. */
    static void biasReluPlane(float[] y, int at, int length, float bias, boolean hasBias, boolean relu) {
        for (int i = at; i < at + length; i++) {
            float v = hasBias ? y[i] + bias : y[i];
            y[i] = relu ? Math.max(v, 0f) : v;
        }
    }

    /** One plane of the VJP: {@code g[at + i] = dy[at + i] · step(y[at + i])}. */
    @FunctionalInterface
    interface PlaneGrad {
        /**
         * Writes one plane of {@code g}.
         *
         * @param y      the ReLU's output
         * @param dy     its cotangent
         * @param g      output
         * @param at     the plane's first element in all three
         * @param length its elements
         */
        void plane(float[] y, float[] dy, float[] g, int at, int length);
    }

    /**
     * The ReLU's VJP {@code g = dy · step(y)} into {@code grads[0, n)}, {@code n =
     * images·channels·positions}, and with {@code biasGrad} the sums of {@code g} per channel
     * into {@code grads[n, n + channels)}, each plane summed by {@code sums} right after it is
     * written. Threads take channels, so each sum is one thread's, in image order.
     *
     * @param grad      one plane of {@code g}
     * @param sums      the row sum of {@link Strided#sumTo}'s walk
     * @param y         the ReLU's output {@code [images, channels, positions]}
     * @param dy        its cotangent
     * @param grads     output
     * @param biasGrad  whether to write the sums
     * @param images    N
     * @param channels  C
     * @param positions P
     */
    static void reluGrad(PlaneGrad grad, Strided.SumRow sums, float[] y, float[] dy, float[] grads, boolean biasGrad,
                         int images, int channels, int positions) {
        int n = images * channels * positions;
        Parallel.rows(channels, Math.max(1, ElementWise.MEMORY_GRAIN / Math.max(1, images * positions)),
                (first, end) -> {
                    for (int c = first; c < end; c++) {
                        if (biasGrad) {
                            grads[n + c] = 0f;
                        }
                        for (int image = 0; image < images; image++) {
                            int at = (image * channels + c) * positions;
                            grad.plane(y, dy, grads, at, positions);
                            if (biasGrad) {
                                sums.row(grads, at, grads, n + c, 0, positions);
                            }
                        }
                    }
                });
    }

    /**
     * {@link #reluGrad(PlaneGrad, Strided.SumRow, float[], float[], float[], boolean, int, int, int)}
     * with the scalar loops.
     *
     * @param y         the ReLU's output {@code [images, channels, positions]}
     * @param dy        its cotangent
     * @param grads     output, {@code n} or {@code n + channels} elements
     * @param biasGrad  whether to write the sums
     * @param images    N
     * @param channels  C
     * @param positions P
     */
    public static void reluGrad(float[] y, float[] dy, float[] grads, boolean biasGrad, int images, int channels,
                                int positions) {
        reluGrad((yv, dyv, g, at, length) -> ElementWise.applyTimes(ElementWise.Unary.STEP, yv, at, dyv, at, g, at,
                length), Strided::sumRow, y, dy, grads, biasGrad, images, channels, positions);
    }
}
