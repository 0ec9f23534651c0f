package org.adjoint.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Normalization} with vectors: each row's sums kept in one float accumulator per lane
 * and the lanes then added in lane order in double (no {@code reduceLanes}, whose order
 * differs between the interpreter and C2; see {@link VectorElementWise}), the tail in double.
 * The mean of the float sums is a first guess, corrected by the mean deviation from it (summed
 * with the squares in the second pass), and is then split into a float and its float
 * remainder, so that the deviations {@code (x − mean)} keep the digits of a row far from 0
 * without double arithmetic per element.
 * Within float rounding of the scalar kernel.
 */
final class VectorNormalization {

    private static final VectorSpecies<Float> S = VectorMicroKernel.SPECIES;
    private static final int L = S.length();
    /** Where the lanes of an accumulator are spilled, one per thread. */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[L]);

    private VectorNormalization() {
    }

    /** The lanes of {@code v} added in lane order, in double. */
    private static double addLanes(FloatVector v, float[] lanes) {
        v.intoArray(lanes, 0);
        double sum = 0;
        for (int lane = 0; lane < L; lane++) {
            sum += lanes[lane];
        }
        return sum;
    }

    /** {@link Normalization#layerNorm} on rows {@code [first, end)} with vectors. */
    static void layerNorm(float[] x, float[] weight, float[] bias, int first, int end, int size, float eps,
                          float[] out, float[] mean, float[] rstd) {
        int bound = S.loopBound(size);
        float[] lanes = LANES.get();
        for (int r = first; r < end; r++) {
            int base = r * size;
            FloatVector acc = FloatVector.zero(S);
            int i = 0;
            for (; i < bound; i += L) {
                acc = acc.add(FloatVector.fromArray(S, x, base + i));
            }
            double sum = addLanes(acc, lanes);
            for (; i < size; i++) {
                sum += x[base + i];
            }
            // The float sums of a row far from 0 are off by more than its spread resolves:
            // their mean is only a first guess, corrected by the mean deviation from it.
            float guess = (float) (sum / size);
            acc = FloatVector.zero(S);
            FloatVector squaresAcc = FloatVector.zero(S);
            for (i = 0; i < bound; i += L) {
                FloatVector d = FloatVector.fromArray(S, x, base + i).sub(guess);
                acc = acc.add(d);
                squaresAcc = d.fma(d, squaresAcc);
            }
            double deviation = addLanes(acc, lanes);
            double squares = addLanes(squaresAcc, lanes);
            for (; i < size; i++) {
                double d = x[base + i] - guess;
                deviation += d;
                squares += d * d;
            }
            double shift = deviation / size;
            double m = guess + shift;
            squares = Math.max(0, squares - size * shift * shift);
            float high = (float) m;
            float low = (float) (m - high);
            double s = 1 / Math.sqrt(squares / size + eps);
            float scale = (float) s;
            mean[r] = high;
            rstd[r] = scale;
            for (i = 0; i < bound; i += L) {
                FloatVector v = FloatVector.fromArray(S, x, base + i).sub(high).sub(low).mul(scale);
                if (weight != null) {
                    v = v.mul(FloatVector.fromArray(S, weight, i));
                }
                if (bias != null) {
                    v = v.add(FloatVector.fromArray(S, bias, i));
                }
                v.intoArray(out, base + i);
            }
            for (; i < size; i++) {
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
     * The weight gradient of {@link Normalization#layerNormGrad} on columns {@code [first, end)}
     * with vectors: {@code dweight[c] = Σ_r dy[r, c]·x̂[r, c]}, rows in order. {@code first} is a
     * multiple of every vector length and {@code end} is one too or {@code size}, so each column
     * is done by the same instructions however the columns are split.
     */
    static void layerNormWeightGrad(float[] x, float[] mean, float[] rstd, float[] dy, int rows, int size, int first,
                                    int end, float[] dweight) {
        int bound = first + S.loopBound(end - first);
        java.util.Arrays.fill(dweight, first, end, 0f);
        for (int r = 0; r < rows; r++) {
            int base = r * size;
            float m = mean[r];
            float s = rstd[r];
            int i = first;
            for (; i < bound; i += L) {
                FloatVector normalized = FloatVector.fromArray(S, x, base + i).sub(m).mul(s);
                FloatVector.fromArray(S, dy, base + i).fma(normalized, FloatVector.fromArray(S, dweight, i))
                        .intoArray(dweight, i);
            }
            for (; i < end; i++) {
                dweight[i] += dy[base + i] * ((x[base + i] - m) * s);
            }
        }
    }

    /** The input gradient of {@link Normalization#layerNormGrad} on rows {@code [first, end)} with vectors. */
    static void layerNormInputGrad(float[] x, float[] weight, float[] mean, float[] rstd, float[] dy, int first,
                                   int end, int size, float[] dx) {
        int bound = S.loopBound(size);
        float[] lanes = LANES.get();
        for (int r = first; r < end; r++) {
            int base = r * size;
            float m = mean[r];
            float s = rstd[r];
            FloatVector sumG = FloatVector.zero(S);
            FloatVector sumGx = FloatVector.zero(S);
            int i = 0;
            for (; i < bound; i += L) {
                FloatVector g = FloatVector.fromArray(S, dy, base + i);
                if (weight != null) {
                    g = g.mul(FloatVector.fromArray(S, weight, i));
                }
                sumG = sumG.add(g);
                sumGx = g.fma(FloatVector.fromArray(S, x, base + i).sub(m).mul(s), sumGx);
            }
            double totalG = addLanes(sumG, lanes);
            double totalGx = addLanes(sumGx, lanes);
            for (; i < size; i++) {
                float g = weight == null ? dy[base + i] : dy[base + i] * weight[i];
                totalG += g;
                totalGx += g * ((x[base + i] - m) * s);
            }
            float meanG = (float) (totalG / size);
            float meanGx = (float) (totalGx / size);
            for (i = 0; i < bound; i += L) {
                FloatVector g = FloatVector.fromArray(S, dy, base + i);
                if (weight != null) {
                    g = g.mul(FloatVector.fromArray(S, weight, i));
                }
                FloatVector normalized = FloatVector.fromArray(S, x, base + i).sub(m).mul(s);
                g.sub(meanG).sub(normalized.mul(meanGx)).mul(s).intoArray(dx, base + i);
            }
            for (; i < size; i++) {
                float g = weight == null ? dy[base + i] : dy[base + i] * weight[i];
                float normalized = (x[base + i] - m) * s;
                dx[base + i] = (g - meanG - normalized * meanGx) * s;
            }
        }
    }
}
