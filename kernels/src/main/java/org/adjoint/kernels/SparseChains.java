package org.adjoint.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * What {@link SparseInputGrad} and {@link SparseWeightGrad} share: listing the nonzero elements
 * of a run, and the nine chains of a 3 × 3 window driven by such a list.
 */
final class SparseChains {

    /** The taps of the window both kernels take. */
    static final int TAPS = 9;
    static final VectorSpecies<Float> SPECIES = VectorConvTile.SPECIES;
    static final int LANES = SPECIES.length();

    private SparseChains() {
    }

    /** How many of {@code a[from, from + n)} are neither +0 nor −0 (NaN counts). */
    static long count(float[] a, int from, int n) {
        long count = 0;
        int i = 0;
        for (int bound = SPECIES.loopBound(n); i < bound; i += LANES) {
            count += FloatVector.fromArray(SPECIES, a, from + i).compare(VectorOperators.NE, 0f).trueCount();
        }
        for (; i < n; i++) {
            count += a[from + i] != 0f ? 1 : 0;
        }
        return count;
    }

    /**
     * Appends the nonzero elements (neither +0 nor −0; NaN counts) of {@code a[from, from + n)}
     * in order: their indices from {@code from} to {@code indices}, their values to {@code values},
     * from {@code count} on.
     *
     * @return the new count
     */
    static int nonzeros(float[] a, int from, int n, int[] indices, float[] values, int count) {
        int i = 0;
        // A vector's comparison as bits, then one step per nonzero element: a scalar scan, with or
        // without a branch, took four times as long at the CNN's density (one in five).
        for (int bound = SPECIES.loopBound(n); i < bound; i += LANES) {
            long bits = FloatVector.fromArray(SPECIES, a, from + i).compare(VectorOperators.NE, 0f).toLong();
            while (bits != 0) {
                int at = i + Long.numberOfTrailingZeros(bits);
                indices[count] = at;
                values[count++] = a[from + at];
                bits &= bits - 1;
            }
        }
        for (; i < n; i++) {
            float v = a[from + i];
            if (v != 0f) {
                indices[count] = i;
                values[count++] = v;
            }
        }
        return count;
    }

    /**
     * Nine chains from +0 over the list's elements {@code [first, end)}: chain {@code t} adds
     * {@code fma(source[sourceBase + sourceTaps[t] + bases[e]], values[e], chain)} element after
     * element, then goes to {@code target[targetBase + targetTaps[t]]}, added to what is there
     * ({@code chain + target}) or, without {@code add}, in its place.
     */
    static void nine(float[] source, int sourceBase, int[] sourceTaps, int[] bases, float[] values, int first,
                     int end, float[] target, int targetBase, int[] targetTaps, boolean add) {
        int s0 = sourceBase + sourceTaps[0];
        int s1 = sourceBase + sourceTaps[1];
        int s2 = sourceBase + sourceTaps[2];
        int s3 = sourceBase + sourceTaps[3];
        int s4 = sourceBase + sourceTaps[4];
        int s5 = sourceBase + sourceTaps[5];
        int s6 = sourceBase + sourceTaps[6];
        int s7 = sourceBase + sourceTaps[7];
        int s8 = sourceBase + sourceTaps[8];
        FloatVector t0 = FloatVector.zero(SPECIES);
        FloatVector t1 = t0;
        FloatVector t2 = t0;
        FloatVector t3 = t0;
        FloatVector t4 = t0;
        FloatVector t5 = t0;
        FloatVector t6 = t0;
        FloatVector t7 = t0;
        FloatVector t8 = t0;
        for (int e = first; e < end; e++) {
            FloatVector v = FloatVector.broadcast(SPECIES, values[e]);
            int b = bases[e];
            t0 = FloatVector.fromArray(SPECIES, source, s0 + b).fma(v, t0);
            t1 = FloatVector.fromArray(SPECIES, source, s1 + b).fma(v, t1);
            t2 = FloatVector.fromArray(SPECIES, source, s2 + b).fma(v, t2);
            t3 = FloatVector.fromArray(SPECIES, source, s3 + b).fma(v, t3);
            t4 = FloatVector.fromArray(SPECIES, source, s4 + b).fma(v, t4);
            t5 = FloatVector.fromArray(SPECIES, source, s5 + b).fma(v, t5);
            t6 = FloatVector.fromArray(SPECIES, source, s6 + b).fma(v, t6);
            t7 = FloatVector.fromArray(SPECIES, source, s7 + b).fma(v, t7);
            t8 = FloatVector.fromArray(SPECIES, source, s8 + b).fma(v, t8);
        }
        put(t0, target, targetBase + targetTaps[0], add);
        put(t1, target, targetBase + targetTaps[1], add);
        put(t2, target, targetBase + targetTaps[2], add);
        put(t3, target, targetBase + targetTaps[3], add);
        put(t4, target, targetBase + targetTaps[4], add);
        put(t5, target, targetBase + targetTaps[5], add);
        put(t6, target, targetBase + targetTaps[6], add);
        put(t7, target, targetBase + targetTaps[7], add);
        put(t8, target, targetBase + targetTaps[8], add);
    }

    /**
     * {@link #nine} where each list element's nine source vectors lie side by side
     * ({@code sourceTaps[t] = t·LANES}), added to the target: the offsets are then constants
     * from one base, for which C2 checks one range instead of nine (the input gradient measured
     * a fifth slower through {@link #nine}).
     */
    static void nineAdjacent(float[] source, int sourceBase, int[] bases, float[] values, int first, int end,
                             float[] target, int targetBase, int[] targetTaps) {
        FloatVector t0 = FloatVector.zero(SPECIES);
        FloatVector t1 = t0;
        FloatVector t2 = t0;
        FloatVector t3 = t0;
        FloatVector t4 = t0;
        FloatVector t5 = t0;
        FloatVector t6 = t0;
        FloatVector t7 = t0;
        FloatVector t8 = t0;
        for (int e = first; e < end; e++) {
            FloatVector v = FloatVector.broadcast(SPECIES, values[e]);
            int k = sourceBase + bases[e];
            t0 = FloatVector.fromArray(SPECIES, source, k).fma(v, t0);
            t1 = FloatVector.fromArray(SPECIES, source, k + LANES).fma(v, t1);
            t2 = FloatVector.fromArray(SPECIES, source, k + 2 * LANES).fma(v, t2);
            t3 = FloatVector.fromArray(SPECIES, source, k + 3 * LANES).fma(v, t3);
            t4 = FloatVector.fromArray(SPECIES, source, k + 4 * LANES).fma(v, t4);
            t5 = FloatVector.fromArray(SPECIES, source, k + 5 * LANES).fma(v, t5);
            t6 = FloatVector.fromArray(SPECIES, source, k + 6 * LANES).fma(v, t6);
            t7 = FloatVector.fromArray(SPECIES, source, k + 7 * LANES).fma(v, t7);
            t8 = FloatVector.fromArray(SPECIES, source, k + 8 * LANES).fma(v, t8);
        }
        put(t0, target, targetBase + targetTaps[0], true);
        put(t1, target, targetBase + targetTaps[1], true);
        put(t2, target, targetBase + targetTaps[2], true);
        put(t3, target, targetBase + targetTaps[3], true);
        put(t4, target, targetBase + targetTaps[4], true);
        put(t5, target, targetBase + targetTaps[5], true);
        put(t6, target, targetBase + targetTaps[6], true);
        put(t7, target, targetBase + targetTaps[7], true);
        put(t8, target, targetBase + targetTaps[8], true);
    }

    private static void put(FloatVector chain, float[] target, int at, boolean add) {
        (add ? chain.add(FloatVector.fromArray(SPECIES, target, at)) : chain).intoArray(target, at);
    }

    /** {@code slot}'s buffer, replaced by a larger one when it holds fewer than {@code needed}. */
    static int[] ints(ThreadLocal<int[]> slot, int needed) {
        int[] buffer = slot.get();
        if (buffer == null || buffer.length < needed) {
            buffer = new int[needed];
            slot.set(buffer);
        }
        return buffer;
    }
}
