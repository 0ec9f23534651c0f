package org.adjoint.kernels;

/**
 * Reductions along one axis of a contiguous array seen as {@code [outer, length, inner]}:
 * element {@code (o, l, i)} sits at {@code offset + (o * length + l) * inner + i}.
 */
public final class AxisReductions {

    private AxisReductions() {
    }

    /**
     * Maximum along the axis, and a one-hot mask that marks the first maximal element of
     * each lane (the element the maximum's derivative flows to). NaN wins over numbers.
     *
     * @param x      input storage ({@code outer * length * inner} elements)
     * @param outer  product of the axes before the reduced one
     * @param length length of the reduced axis (at least 1)
     * @param inner  product of the axes after it
     * @param values output, {@code outer * inner} elements
     * @param mask   output of the input's size, or {@code null} when not wanted
     */
    public static void max(float[] x, int outer, int length, int inner, float[] values, float[] mask) {
        if (mask != null) {
            java.util.Arrays.fill(mask, 0, outer * length * inner, 0f);
        }
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int base = o * length * inner + i;
                int best = 0;
                float bestValue = x[base];
                for (int l = 1; l < length && !Float.isNaN(bestValue); l++) {
                    float v = x[base + l * inner];
                    if (v > bestValue || Float.isNaN(v)) {
                        bestValue = v;
                        best = l;
                    }
                }
                values[o * inner + i] = bestValue;
                if (mask != null) {
                    mask[base + best * inner] = 1f;
                }
            }
        }
    }

    /**
     * Softmax or log-softmax along the axis, stabilised by subtracting the lane maximum.
     * Sums are accumulated in double. A lane
     * of only {@code -inf} gives NaN, as in PyTorch.
     *
     * @param x      input storage
     * @param outer  product of the axes before the reduced one
     * @param length length of the axis
     * @param inner  product of the axes after it
     * @param log    whether to produce log-softmax
     * @param out    output of the input's size
     */
    public static void softmax(float[] x, int outer, int length, int inner, boolean log, float[] out) {
        softmax(x, 0, outer, length, inner, log, out);
    }

    /** {@link #softmax} over the outer rows {@code [from, to)} alone. */
    static void softmax(float[] x, int from, int to, int length, int inner, boolean log, float[] out) {
        for (int o = from; o < to; o++) {
            for (int i = 0; i < inner; i++) {
                int base = o * length * inner + i;
                float max = Float.NEGATIVE_INFINITY;
                for (int l = 0; l < length; l++) {
                    max = Math.max(max, x[base + l * inner]);
                }
                double sum = 0.0;
                for (int l = 0; l < length; l++) {
                    sum += Math.exp(x[base + l * inner] - max);
                }
                if (log) {
                    double logSum = Math.log(sum);
                    for (int l = 0; l < length; l++) {
                        out[base + l * inner] = (float) (x[base + l * inner] - max - logSum);
                    }
                } else {
                    for (int l = 0; l < length; l++) {
                        out[base + l * inner] = (float) (Math.exp(x[base + l * inner] - max) / sum);
                    }
                }
            }
        }
    }
}
