package org.adjoint.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Normalization} with vectors: each row's sums kept in one float accumulator per lane
 * and the lanes then added in lane order in double (no {@code reduceLanes}, whose order
 * differs between the interpreter and C2; see {@link VectorReductions}), the tail in double.
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

    /**
     * {@link Normalization#layerNorm} on rows {@code [first, end)} with vectors, two rows at a
     * time: each of a row's three passes is one chain of dependent additions, which alone
     * leaves the core waiting on each addition's latency, so two rows' chains run side by side
     * in each loop (a last odd row is done as the pair of itself and itself). Each row's
     * operations are its own, in its own order, so pairing changes no bit.
     */
    static void layerNorm(float[] x, float[] weight, float[] bias, int first, int end, int size, float eps,
                          float[] out, float[] mean, float[] rstd) {
        float[] lanes = LANES.get();
        for (int r = first; r < end; r += 2) {
            layerNormPair(x, weight, bias, r, Math.min(r + 1, end - 1), size, eps, out, mean, rstd, lanes);
        }
    }

    /** Rows {@code ra} and {@code rb} normalized into {@code out} (the same row twice when {@code ra == rb}). */
    private static void layerNormPair(float[] x, float[] weight, float[] bias, int ra, int rb, int size, float eps,
                                      float[] out, float[] mean, float[] rstd, float[] lanes) {
        int a = ra * size;
        int b = rb * size;
        int bound = S.loopBound(size);
        FloatVector accA = FloatVector.zero(S);
        FloatVector accB = FloatVector.zero(S);
        int i = 0;
        for (; i < bound; i += L) {
            accA = accA.add(FloatVector.fromArray(S, x, a + i));
            accB = accB.add(FloatVector.fromArray(S, x, b + i));
        }
        double sumA = addLanes(accA, lanes);
        double sumB = addLanes(accB, lanes);
        for (; i < size; i++) {
            sumA += x[a + i];
            sumB += x[b + i];
        }
        // The float sums of a row far from 0 are off by more than its spread resolves:
        // their mean is only a first guess, corrected by the mean deviation from it.
        float guessA = (float) (sumA / size);
        float guessB = (float) (sumB / size);
        accA = FloatVector.zero(S);
        accB = FloatVector.zero(S);
        FloatVector squaresA = FloatVector.zero(S);
        FloatVector squaresB = FloatVector.zero(S);
        for (i = 0; i < bound; i += L) {
            FloatVector dA = FloatVector.fromArray(S, x, a + i).sub(guessA);
            FloatVector dB = FloatVector.fromArray(S, x, b + i).sub(guessB);
            accA = accA.add(dA);
            accB = accB.add(dB);
            squaresA = dA.fma(dA, squaresA);
            squaresB = dB.fma(dB, squaresB);
        }
        double deviationA = addLanes(accA, lanes);
        double deviationB = addLanes(accB, lanes);
        double sumSquaresA = addLanes(squaresA, lanes);
        double sumSquaresB = addLanes(squaresB, lanes);
        for (; i < size; i++) {
            double dA = x[a + i] - guessA;
            double dB = x[b + i] - guessB;
            deviationA += dA;
            deviationB += dB;
            sumSquaresA += dA * dA;
            sumSquaresB += dB * dB;
        }
        double shiftA = deviationA / size;
        double shiftB = deviationB / size;
        double meanA = guessA + shiftA;
        double meanB = guessB + shiftB;
        double scaleA = 1 / Math.sqrt(Math.max(0, sumSquaresA - size * shiftA * shiftA) / size + eps);
        double scaleB = 1 / Math.sqrt(Math.max(0, sumSquaresB - size * shiftB * shiftB) / size + eps);
        float highA = (float) meanA;
        float highB = (float) meanB;
        float lowA = (float) (meanA - highA);
        float lowB = (float) (meanB - highB);
        float fA = (float) scaleA;
        float fB = (float) scaleB;
        mean[ra] = highA;
        rstd[ra] = fA;
        mean[rb] = highB;
        rstd[rb] = fB;
        for (i = 0; i < bound; i += L) {
            FloatVector vA = FloatVector.fromArray(S, x, a + i).sub(highA).sub(lowA).mul(fA);
            FloatVector vB = FloatVector.fromArray(S, x, b + i).sub(highB).sub(lowB).mul(fB);
            if (weight != null) {
                FloatVector w = FloatVector.fromArray(S, weight, i);
                vA = vA.mul(w);
                vB = vB.mul(w);
            }
            if (bias != null) {
                FloatVector c = FloatVector.fromArray(S, bias, i);
                vA = vA.add(c);
                vB = vB.add(c);
            }
            vA.intoArray(out, a + i);
            vB.intoArray(out, b + i);
        }
        for (; i < size; i++) {
            // Both read before either is written: the output may be the input, and b may be a.
            float vA = affine((float) ((x[a + i] - meanA) * scaleA), weight, bias, i);
            float vB = affine((float) ((x[b + i] - meanB) * scaleB), weight, bias, i);
            out[a + i] = vA;
            out[b + i] = vB;
        }
    }

    /** {@code v·weight[i] + bias[i]}, each factor only where given. */
    private static float affine(float v, float[] weight, float[] bias, int i) {
        if (weight != null) {
            v *= weight[i];
        }
        if (bias != null) {
            v += bias[i];
        }
        return v;
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
