package org.adjoint.kernels;

/**
 * Layer normalisation of contiguous rows: {@code x} seen as {@code [rows, size]}, each row
 * normalised by its mean and biased variance, then scaled and shifted per column; and its
 * gradients. Row statistics are accumulated in double (two passes: the mean, then the
 * squares of the deviations), so they do not depend on the order of a long row's values
 * beyond double rounding; the forward normalises in double too. The saved mean and
 * reciprocal standard deviation are floats, which the gradients read.
 */
public final class Normalization {

    private Normalization() {
    }

    /**
     * {@code out = (x − mean) · rstd · weight + bias} row by row, with {@code rstd = 1 / √(var + eps)};
     * writes each row's {@code mean} and {@code rstd}.
     *
     * @param x      input, {@code rows · size} elements
     * @param weight {@code size} elements, or {@code null} for 1
     * @param bias   {@code size} elements, or {@code null} for 0
     * @param rows   number of rows
     * @param size   row length, at least 1
     * @param eps    added to the variance
     * @param out    output, {@code rows · size} elements (may be {@code x})
     * @param mean   output, {@code rows} elements
     * @param rstd   output, {@code rows} elements
     */
    public static void layerNorm(float[] x, float[] weight, float[] bias, int rows, int size, float eps, float[] out,
                                 float[] mean, float[] rstd) {
        for (int r = 0; r < rows; r++) {
            int base = r * size;
            double sum = 0;
            for (int i = 0; i < size; i++) {
                sum += x[base + i];
            }
            double m = sum / size;
            double squares = 0;
            for (int i = 0; i < size; i++) {
                double d = x[base + i] - m;
                squares += d * d;
            }
            double s = 1 / Math.sqrt(squares / size + eps);
            mean[r] = (float) m;
            rstd[r] = (float) s;
            for (int i = 0; i < size; i++) {
                // In double up to the scale: a row far from 0 (a mean of 40 has float ulps of 4e-6)
                // keeps the digits of its deviations.
                float v = (float) ((x[base + i] - m) * s);
                if (weight != null) {
                    v *= weight[i];
                }
                if (bias != null) {
                    v += bias[i];
                }
                out[base + i] = v;
            }
        }
    }

    /**
     * The gradients of {@link #layerNorm} from its saved {@code mean} and {@code rstd}: with
     * {@code x̂ = (x − mean) · rstd} and {@code g = dy · weight},
     * {@code dx = rstd · (g − mean(g) − x̂ · mean(g · x̂))} (one pass per row, the two means
     * accumulated in double) and {@code dweight = Σ_rows dy · x̂}.
     *
     * @param x       the forward input, {@code rows · size} elements
     * @param weight  the forward weight, or {@code null} for 1
     * @param mean    the forward means, {@code rows} elements
     * @param rstd    the forward reciprocal standard deviations, {@code rows} elements
     * @param dy      the output's cotangent, {@code rows · size} elements
     * @param rows    number of rows
     * @param size    row length, at least 1
     * @param dx      output, {@code rows · size} elements, or {@code null} when not wanted
     * @param dweight output, {@code size} elements (overwritten), or {@code null} when not wanted
     */
    public static void layerNormGrad(float[] x, float[] weight, float[] mean, float[] rstd, float[] dy, int rows,
                                     int size, float[] dx, float[] dweight) {
        if (dweight != null) {
            java.util.Arrays.fill(dweight, 0, size, 0f);
        }
        for (int r = 0; r < rows; r++) {
            int base = r * size;
            float m = mean[r];
            float s = rstd[r];
            if (dweight != null) {
                for (int i = 0; i < size; i++) {
                    dweight[i] += dy[base + i] * ((x[base + i] - m) * s);
                }
            }
            if (dx == null) {
                continue;
            }
            double sumG = 0;
            double sumGx = 0;
            for (int i = 0; i < size; i++) {
                float g = weight == null ? dy[base + i] : dy[base + i] * weight[i];
                sumG += g;
                sumGx += g * ((x[base + i] - m) * s);
            }
            float meanG = (float) (sumG / size);
            float meanGx = (float) (sumGx / size);
            for (int i = 0; i < size; i++) {
                float g = weight == null ? dy[base + i] : dy[base + i] * weight[i];
                float normalized = (x[base + i] - m) * s;
                dx[base + i] = (g - meanG - normalized * meanGx) * s;
            }
        }
    }
}
