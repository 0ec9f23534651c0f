package org.adjoint.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link AttentionKernels}' row operations with the Vector API: whole vectors, then a scalar
 * tail. As in {@link VectorElementWise}, sums and maxima keep one accumulator per lane and
 * combine the lanes in lane order (no {@code reduceLanes}), and {@code exp} is
 * {@link VectorElementWise#exp}, so results are the same interpreted and compiled.
 */
final class VectorAttentionLanes implements AttentionKernels.Lanes {

    static final VectorAttentionLanes INSTANCE = new VectorAttentionLanes();

    private static final VectorSpecies<Float> S = VectorMicroKernel.SPECIES;
    private static final int L = S.length();
    private static final ThreadLocal<float[]> SPILL = ThreadLocal.withInitial(() -> new float[L]);

    private VectorAttentionLanes() {
    }

    @Override
    public float dot(float[] x, int xo, float[] y, int yo, int n) {
        int bound = S.loopBound(n);
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i < bound; i += L) {
            acc = FloatVector.fromArray(S, x, xo + i).fma(FloatVector.fromArray(S, y, yo + i), acc);
        }
        float sum = bound == 0 ? 0f : addLanes(acc);
        for (; i < n; i++) {
            sum += x[xo + i] * y[yo + i];
        }
        return sum;
    }

    @Override
    public float max(float[] x, int o, int n) {
        int bound = S.loopBound(n);
        float max = Float.NEGATIVE_INFINITY;
        int i = 0;
        if (bound > 0) {
            FloatVector acc = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (; i < bound; i += L) {
                acc = acc.max(FloatVector.fromArray(S, x, o + i));
            }
            float[] lanes = SPILL.get();
            acc.intoArray(lanes, 0);
            for (float lane : lanes) {
                max = Math.max(max, lane);
            }
        }
        for (; i < n; i++) {
            max = Math.max(max, x[o + i]);
        }
        return max;
    }

    @Override
    public float expShifted(float[] x, int o, int n, float shift) {
        int bound = S.loopBound(n);
        FloatVector by = FloatVector.broadcast(S, shift);
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector e = VectorElementWise.exp(FloatVector.fromArray(S, x, o + i).sub(by));
            e.intoArray(x, o + i);
            acc = acc.add(e);
        }
        float sum = bound == 0 ? 0f : addLanes(acc);
        for (; i < n; i++) {
            float e = (float) Math.exp(x[o + i] - shift);
            x[o + i] = e;
            sum += e;
        }
        return sum;
    }

    @Override
    public void scale(float[] y, int o, int n, float a) {
        int bound = S.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromArray(S, y, o + i).mul(a).intoArray(y, o + i);
        }
        for (; i < n; i++) {
            y[o + i] *= a;
        }
    }

    @Override
    public void softmaxGrad(float[] p, float[] dp, int o, int n, float d) {
        int bound = S.loopBound(n);
        FloatVector by = FloatVector.broadcast(S, d);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromArray(S, dp, o + i).sub(by).mul(FloatVector.fromArray(S, p, o + i)).intoArray(dp, o + i);
        }
        for (; i < n; i++) {
            dp[o + i] = p[o + i] * (dp[o + i] - d);
        }
    }

    /** The lanes' sum, added in lane order. */
    private static float addLanes(FloatVector v) {
        float[] lanes = SPILL.get();
        v.intoArray(lanes, 0);
        float sum = lanes[0];
        for (int lane = 1; lane < L; lane++) {
            sum += lanes[lane];
        }
        return sum;
    }
}
