package org.adjoint.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link ChannelBias}'s backward plane with vectors: the ReLU's VJP and its sum in one loop,
 * with the bits of {@link VectorElementWise#unaryTimes} (STEP) followed by
 * {@link VectorReductions#sumRow} over the stored plane: the same species, the product
 * {@code dy · (0 or 1)} (so −0 and NaN as there), the vector sum of whole vectors in order,
 * its lanes added in lane order after the running total, then the tail element by element.
 */
final class VectorChannelBias {

    private static final VectorSpecies<Float> S = VectorMicroKernel.SPECIES;
    private static final int L = S.length();
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[L]);

    private VectorChannelBias() {
    }

    /** A {@link ChannelBias.PlaneGrad}: see there. */
    static void reluGradPlane(float[] y, float[] dy, float[] g, int at, int length, float[] sums, int o) {
        if (sums == null) {
            VectorElementWise.unaryTimes(ElementWise.Unary.STEP, y, at, dy, at, g, at, length);
            return;
        }
        int bound = S.loopBound(length);
        FloatVector zero = FloatVector.zero(S);
        FloatVector one = FloatVector.broadcast(S, 1f);
        float total = sums[o];
        int i = 0;
        if (bound > 0) {
            FloatVector sum = zero;
            for (; i < bound; i += L) {
                VectorMask<Float> positive = FloatVector.fromArray(S, y, at + i).compare(VectorOperators.GT, 0f);
                FloatVector v = FloatVector.fromArray(S, dy, at + i).mul(zero.blend(one, positive));
                v.intoArray(g, at + i);
                // The row sum starts from the first vector itself, not from +0 plus it.
                sum = i == 0 ? v : sum.add(v);
            }
            total += lanes(sum);
        }
        for (; i < length; i++) {
            float v = dy[at + i] * (y[at + i] > 0f ? 1f : 0f);
            g[at + i] = v;
            total += v;
        }
        sums[o] = total;
    }

    /** The lanes of a vector sum added in lane order. */
    private static float lanes(FloatVector sum) {
        float[] lanes = LANES.get();
        sum.intoArray(lanes, 0);
        float lanesSum = lanes[0];
        for (int lane = 1; lane < L; lane++) {
            lanesSum += lanes[lane];
        }
        return lanesSum;
    }

    /**
     * A stored plane's sum added to {@code total} in {@link #reluGradPlane}'s order (a
     * {@link PooledReluGrad.PlaneSum}): the vector sum of whole vectors, its lanes, then the tail.
     */
    static float sumPlane(float[] g, int at, int length, float total) {
        int bound = S.loopBound(length);
        int i = 0;
        if (bound > 0) {
            FloatVector sum = FloatVector.fromArray(S, g, at);
            for (i = L; i < bound; i += L) {
                sum = sum.add(FloatVector.fromArray(S, g, at + i));
            }
            total += lanes(sum);
        }
        for (; i < length; i++) {
            total += g[at + i];
        }
        return total;
    }
}
