package org.adjoint.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API versions of the reductions: sums of rows and of columns (the row kernels of
 * {@link StridedSum}), the sum of squares, the maximum with its mask, and softmax along an
 * axis; {@link AxisReductions} and {@link StridedSum} hold the scalar ones. Each loop runs
 * whole vectors and hands its tail to the scalar order, as {@link VectorElementWise}'s do.
 *
 * <p>No loop here calls {@code reduceLanes}: the order in which it adds (or compares) the
 * lanes is left open, and the interpreter's Java fallback (lane 0 to the last) and C2's
 * intrinsic (a tree over halves) do not agree, so a sum came out in different bits before
 * and after C2 compiled it, and training would not be bitwise reproducible. Sums and maxima
 * keep one accumulator per lane in the loop, then {@link #addLanes} and {@link #maxLanes}
 * combine the lanes in lane order, after the vector part and before the scalar tail: an order
 * fixed by the length and the species. The exponential is {@link VectorElementWise#exp}.
 */
final class VectorReductions {

    private static final VectorSpecies<Float> S = VectorMicroKernel.SPECIES;
    private static final int L = S.length();
    /** Where {@link #addLanes} and {@link #maxLanes} spill a vector, one per thread. */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[L]);

    private VectorReductions() {
    }

    /**
     * {@link StridedSum.Columns}: blocks of eight vectors of columns summed down all the rows in
     * registers, then single vectors, then single columns; each sum takes its rows in order from
     * the output's value, as {@link #sumRow} row after row would, so the bits are the same. Row
     * after row, every vector of the output was loaded and stored once a row: the GPT's bias
     * gradients (768 rows of 384, 128 and 512) took 40, 14 and 55 µs on two threads of a Zen 4
     * under {@code -XX:UseAVX=2}, and take 9, 2.8 and 12–14 µs this way (the rows in L2).
     */
    static void sumColumns(float[] src, int s, int ld, int rows, float[] out, int o, int n) {
        int i = 0;
        for (; i + 8 * L <= n; i += 8 * L) {
            FloatVector c0 = FloatVector.fromArray(S, out, o + i);
            FloatVector c1 = FloatVector.fromArray(S, out, o + i + L);
            FloatVector c2 = FloatVector.fromArray(S, out, o + i + 2 * L);
            FloatVector c3 = FloatVector.fromArray(S, out, o + i + 3 * L);
            FloatVector c4 = FloatVector.fromArray(S, out, o + i + 4 * L);
            FloatVector c5 = FloatVector.fromArray(S, out, o + i + 5 * L);
            FloatVector c6 = FloatVector.fromArray(S, out, o + i + 6 * L);
            FloatVector c7 = FloatVector.fromArray(S, out, o + i + 7 * L);
            for (int r = 0, at = s + i; r < rows; r++, at += ld) {
                c0 = c0.add(FloatVector.fromArray(S, src, at));
                c1 = c1.add(FloatVector.fromArray(S, src, at + L));
                c2 = c2.add(FloatVector.fromArray(S, src, at + 2 * L));
                c3 = c3.add(FloatVector.fromArray(S, src, at + 3 * L));
                c4 = c4.add(FloatVector.fromArray(S, src, at + 4 * L));
                c5 = c5.add(FloatVector.fromArray(S, src, at + 5 * L));
                c6 = c6.add(FloatVector.fromArray(S, src, at + 6 * L));
                c7 = c7.add(FloatVector.fromArray(S, src, at + 7 * L));
            }
            c0.intoArray(out, o + i);
            c1.intoArray(out, o + i + L);
            c2.intoArray(out, o + i + 2 * L);
            c3.intoArray(out, o + i + 3 * L);
            c4.intoArray(out, o + i + 4 * L);
            c5.intoArray(out, o + i + 5 * L);
            c6.intoArray(out, o + i + 6 * L);
            c7.intoArray(out, o + i + 7 * L);
        }
        for (; i + L <= n; i += L) {
            FloatVector c = FloatVector.fromArray(S, out, o + i);
            for (int r = 0, at = s + i; r < rows; r++, at += ld) {
                c = c.add(FloatVector.fromArray(S, src, at));
            }
            c.intoArray(out, o + i);
        }
        for (; i < n; i++) {
            float c = out[o + i];
            for (int r = 0, at = s + i; r < rows; r++, at += ld) {
                c += src[at];
            }
            out[o + i] = c;
        }
    }

    static void sumRow(float[] src, int s, float[] out, int o, int os, int n) {
        int bound = S.loopBound(n);
        int i = 0;
        if (os == 0) {
            float total = out[o];
            if (bound > 0) {
                FloatVector sum = FloatVector.fromArray(S, src, s);
                for (i = L; i < bound; i += L) {
                    sum = sum.add(FloatVector.fromArray(S, src, s + i));
                }
                total += addLanes(sum, LANES.get());
            }
            for (; i < n; i++) {
                total += src[s + i];
            }
            out[o] = total;
            return;
        }
        if (os == 1) {
            for (; i < bound; i += L) {
                FloatVector.fromArray(S, out, o + i).add(FloatVector.fromArray(S, src, s + i)).intoArray(out, o + i);
            }
        }
        for (; i < n; i++) {
            out[o + i * os] += src[s + i];
        }
    }

    /**
     * The sum of {@code x}'s squares with the bits of {@link VectorBinary}'s product of
     * {@code x} by itself followed by {@link #sumRow} of it into a zero: the same one
     * accumulator, each square rounded before it is added.
     */
    static float sumOfSquares(float[] x) {
        int n = x.length;
        int bound = S.loopBound(n);
        int i = 0;
        float total = 0f;
        if (bound > 0) {
            FloatVector first = FloatVector.fromArray(S, x, 0);
            FloatVector sum = first.mul(first);
            for (i = L; i < bound; i += L) {
                FloatVector v = FloatVector.fromArray(S, x, i);
                sum = sum.add(v.mul(v));
            }
            total += addLanes(sum, LANES.get());
        }
        for (; i < n; i++) {
            total += x[i] * x[i];
        }
        return total;
    }

    /**
     * {@link AxisReductions#max} with the lanes in vectors, for many lanes (pooling windows: a
     * short axis, long rows): one pass per row of the axis updates each lane's maximum and the
     * position of its first maximum with masked blends, so neither a branch nor its
     * misprediction is paid per element. The same bits as the scalar kernel: the first
     * maximum wins ties, a NaN wins and stays.
     */
    static void max(float[] x, int outer, int length, int inner, float[] values, float[] mask) {
        if (inner < S.length() || length < 2) {
            AxisReductions.max(x, outer, length, inner, values, mask);
            return;
        }
        if (mask != null) {
            java.util.Arrays.fill(mask, 0, outer * length * inner, 0f);
        }
        float[] best = mask == null ? null : new float[inner];
        int bound = S.loopBound(inner);
        for (int o = 0; o < outer; o++) {
            int plane = o * length * inner;
            int row = o * inner;
            System.arraycopy(x, plane, values, row, inner);
            if (best != null) {
                java.util.Arrays.fill(best, 0f);
            }
            for (int l = 1; l < length; l++) {
                int from = plane + l * inner;
                FloatVector position = FloatVector.broadcast(S, l);
                int i = 0;
                for (; i < bound; i += S.length()) {
                    FloatVector current = FloatVector.fromArray(S, values, row + i);
                    FloatVector v = FloatVector.fromArray(S, x, from + i);
                    VectorMask<Float> take = v.compare(VectorOperators.GT, current).or(v.test(VectorOperators.IS_NAN))
                            .andNot(current.test(VectorOperators.IS_NAN));
                    current.blend(v, take).intoArray(values, row + i);
                    if (best != null) {
                        FloatVector.fromArray(S, best, i).blend(position, take).intoArray(best, i);
                    }
                }
                for (; i < inner; i++) {
                    float current = values[row + i];
                    float v = x[from + i];
                    if (current == current && (v > current || v != v)) {
                        values[row + i] = v;
                        if (best != null) {
                            best[i] = l;
                        }
                    }
                }
            }
            if (mask != null) {
                for (int i = 0; i < inner; i++) {
                    mask[plane + (int) best[i] * inner + i] = 1f;
                }
            }
        }
    }

    /**
     * Softmax along a contiguous last axis ({@code inner == 1}) over the outer rows
     * {@code [from, to)}; other layouts use the scalar kernel.
     */
    static void softmax(float[] x, int from, int to, int length, int inner, boolean log, float[] out) {
        if (inner != 1) {
            AxisReductions.softmax(x, from, to, length, inner, log, out);
            return;
        }
        int bound = S.loopBound(length);
        float[] lanes = LANES.get();
        for (int row = from; row < to; row++) {
            int base = row * length;
            FloatVector maxVector = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            int i = 0;
            for (; i < bound; i += L) {
                maxVector = maxVector.max(FloatVector.fromArray(S, x, base + i));
            }
            float max = maxLanes(maxVector, lanes);
            for (; i < length; i++) {
                max = Math.max(max, x[base + i]);
            }
            FloatVector shift = FloatVector.broadcast(S, max);
            FloatVector sumVector = FloatVector.zero(S);
            for (i = 0; i < bound; i += L) {
                FloatVector e = VectorElementWise.exp(FloatVector.fromArray(S, x, base + i).sub(shift));
                if (!log) {
                    e.intoArray(out, base + i);
                }
                sumVector = sumVector.add(e);
            }
            double sum = addLanes(sumVector, lanes);
            for (; i < length; i++) {
                float e = (float) Math.exp(x[base + i] - max);
                if (!log) {
                    out[base + i] = e;
                }
                sum += e;
            }
            if (log) {
                // Subtract the maximum first and the log-sum second: folding them into one
                // offset loses the low bits when the inputs are large (x = 1000 has an ulp of 6e-5).
                float logSum = (float) Math.log(sum);
                FloatVector logSumVector = FloatVector.broadcast(S, logSum);
                for (i = 0; i < bound; i += L) {
                    FloatVector.fromArray(S, x, base + i).sub(shift).sub(logSumVector).intoArray(out, base + i);
                }
                for (; i < length; i++) {
                    out[base + i] = x[base + i] - max - logSum;
                }
            } else {
                FloatVector scale = FloatVector.broadcast(S, (float) (1.0 / sum));
                for (i = 0; i < bound; i += L) {
                    FloatVector.fromArray(S, out, base + i).mul(scale).intoArray(out, base + i);
                }
                for (; i < length; i++) {
                    out[base + i] *= scale.lane(0);
                }
            }
        }
    }

    /** The lanes of {@code v} added in lane order (see the class description), through {@code lanes}. */
    private static float addLanes(FloatVector v, float[] lanes) {
        v.intoArray(lanes, 0);
        float sum = lanes[0];
        for (int lane = 1; lane < L; lane++) {
            sum += lanes[lane];
        }
        return sum;
    }

    /** The largest lane of {@code v} by {@link Math#max} (NaN wins, +0 above −0), in lane order. */
    private static float maxLanes(FloatVector v, float[] lanes) {
        v.intoArray(lanes, 0);
        float max = lanes[0];
        for (int lane = 1; lane < L; lane++) {
            max = Math.max(max, lanes[lane]);
        }
        return max;
    }
}
