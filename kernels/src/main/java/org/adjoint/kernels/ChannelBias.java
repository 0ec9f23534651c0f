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
        biasRelu(ChannelBias::biasReluPlane, y, bias, relu, images, channels, positions);
    }

    /** One plane of {@link #biasRelu}: {@code length} values of {@code y} from {@code at}, updated in place. */
    @FunctionalInterface
    interface PlaneTail {
        /**
         * Applies the tail to one plane.
         *
         * @param y       the output
         * @param at      the plane's first element
         * @param length  its elements
         * @param bias    the plane's channel's bias
         * @param hasBias whether to add it
         * @param relu    whether to apply {@code max(·, 0)}
         */
        void plane(float[] y, int at, int length, float bias, boolean hasBias, boolean relu);
    }

    /**
     * {@link #biasRelu(float[], float[], boolean, int, int, int)} with a given plane kernel,
     * threads taking whole planes.
     *
     * @param tail      one plane
     * @param y         {@code [images, channels, positions]}, updated
     * @param bias      {@code channels} values, or {@code null} for none
     * @param relu      whether to apply {@code max(·, 0)}
     * @param images    N
     * @param channels  C
     * @param positions P
     */
    static void biasRelu(PlaneTail tail, float[] y, float[] bias, boolean relu, int images, int channels,
                         int positions) {
        Parallel.rows(images * channels, Math.max(1, ElementWise.MEMORY_GRAIN / Math.max(1, positions)),
                (first, end) -> {
                    for (int plane = first; plane < end; plane++) {
                        tail.plane(y, plane * positions, positions, bias == null ? 0f : bias[plane % channels],
                                bias != null, relu);
                    }
                });
    }

    private static void biasReluPlane(float[] y, int at, int length, float bias, boolean hasBias, boolean relu) {
        for (int i = at; i < at + length; i++) {
            float v = hasBias ? y[i] + bias : y[i];
            y[i] = relu ? Math.max(v, 0f) : v;
        }
    }

    /**
     * One plane of the VJP: {@code g[at + i] = dy[at + i] · step(y[at + i])}, and with
     * {@code sums} non-null {@code sums[o] += Σ g} over the plane, added as the provider's
     * {@code sumTo} row adds a row of {@code g} that was stored first.
     */
    @FunctionalInterface
    interface PlaneGrad {
        /**
         * Writes one plane of {@code g} and adds it to its sum.
         *
         * @param y      the ReLU's output
         * @param dy     its cotangent
         * @param g      output
         * @param at     the plane's first element in all three
         * @param length its elements
         * @param sums   where the sum goes, or {@code null} for none
         * @param o      the sum's element
         */
        void plane(float[] y, float[] dy, float[] g, int at, int length, float[] sums, int o);
    }

    /**
     * The ReLU's VJP {@code g = dy · step(y)} into {@code grads[0, n)}, {@code n =
     * images·channels·positions}, and with {@code biasGrad} the sums of {@code g} per channel
     * into {@code grads[n, n + channels)}, each plane summed as it is written. Threads take
     * channels, so each sum is one thread's, in image order; each thread walks its channels
     * image after image, a contiguous run of planes at a time.
     *
     * @param grad      one plane of {@code g} and its sum
     * @param y         the ReLU's output {@code [images, channels, positions]}
     * @param dy        its cotangent
     * @param grads     output
     * @param biasGrad  whether to write the sums
     * @param images    N
     * @param channels  C
     * @param positions P
     */
    static void reluGrad(PlaneGrad grad, float[] y, float[] dy, float[] grads, boolean biasGrad, int images,
                         int channels, int positions) {
        int n = images * channels * positions;
        float[] sums = biasGrad ? grads : null;
        Parallel.rows(channels, Math.max(1, ElementWise.MEMORY_GRAIN / Math.max(1, images * positions)),
                (first, end) -> {
                    if (biasGrad) {
                        java.util.Arrays.fill(grads, n + first, n + end, 0f);
                    }
                    for (int image = 0; image < images; image++) {
                        for (int c = first; c < end; c++) {
                            grad.plane(y, dy, grads, (image * channels + c) * positions, positions, sums, n + c);
                        }
                    }
                });
    }

    /**
     * {@link #reluGrad(PlaneGrad, float[], float[], float[], boolean, int, int, int)} with the
     * scalar loop: {@link ElementWise#applyTimes}'s product, summed in order as
     * {@link Strided#sumTo}'s rows are.
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
        reluGrad(ChannelBias::reluGradPlane, y, dy, grads, biasGrad, images, channels, positions);
    }

    private static void reluGradPlane(float[] y, float[] dy, float[] g, int at, int length, float[] sums, int o) {
        if (sums == null) {
            ElementWise.applyTimes(ElementWise.Unary.STEP, y, at, dy, at, g, at, length);
            return;
        }
        float sum = sums[o];
        for (int i = at; i < at + length; i++) {
            float v = dy[i] * (y[i] > 0f ? 1f : 0f);
            g[i] = v;
            sum += v;
        }
        sums[o] = sum;
    }
}
