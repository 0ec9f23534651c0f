package org.adjoint.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link AttentionKernels}' row operations with the Vector API: whole vectors, then a scalar
 * tail. As in {@link VectorReductions}, sums keep one accumulator per lane and combine the
 * lanes in lane order (no {@code reduceLanes}, whose order is not specified); maxima, which no
 * order changes, are reduced by {@code reduceLanes}; and {@code exp} is
 * {@link VectorElementWise#exp}, so results are the same interpreted and compiled.
 */
final class VectorAttentionLanes implements AttentionKernels.Lanes {

    static final VectorAttentionLanes INSTANCE = new VectorAttentionLanes();

    private static final VectorSpecies<Float> S = VectorMicroKernel.SPECIES;
    private static final int L = S.length();
    /**
     * The products' width: {@link VectorMicroKernel#tallSpecies()}, 512 bits on AVX-512 (half
     * the instructions of 256). Each output lane sums its own terms in order, so the width
     * does not change the bits.
     */
    private static final VectorSpecies<Float> P = VectorMicroKernel.tallSpecies();
    private static final int PL = P.length();
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
        float sum = bound == 0 ? 0f
                : L == 8 ? acc.lane(0) + acc.lane(1) + acc.lane(2) + acc.lane(3) + acc.lane(4) + acc.lane(5)
                        + acc.lane(6) + acc.lane(7) : addLanes(acc);
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
            // A maximum does not depend on the order it is taken in (NaN and the zeros
            // included), so the lanes need not be spilled and taken one by one.
            max = acc.reduceLanes(VectorOperators.MAX);
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
        float sum = bound == 0 ? 0f
                : L == 8 ? acc.lane(0) + acc.lane(1) + acc.lane(2) + acc.lane(3) + acc.lane(4) + acc.lane(5)
                        + acc.lane(6) + acc.lane(7) : addLanes(acc);
        for (; i < n; i++) {
            float e = (float) Math.exp(x[o + i] - shift);
            x[o + i] = e;
            sum += e;
        }
        return sum;
    }

    /**
     * Whole vectors only: the last one's lanes from {@code n} on are set to 0 (no scalar
     * {@code exp} for the tail). One loop with one call of {@link VectorElementWise#exp}, the
     * partial vector masked inside it: a second call site for the tail ran rarely enough that
     * C2 would not inline {@code exp} there, and an {@code exp} that is not inlined boxes its
     * vectors.
     */
    @Override
    public float expShiftedPadded(float[] x, int o, int n, float shift) {
        FloatVector by = FloatVector.broadcast(S, shift);
        FloatVector acc = FloatVector.zero(S);
        for (int i = 0; i < n; i += L) {
            FloatVector e = VectorElementWise.exp(FloatVector.fromArray(S, x, o + i).sub(by));
            if (i + L > n) {
                e = e.blend(FloatVector.zero(S), S.indexInRange(i, n).not());
            }
            e.intoArray(x, o + i);
            acc = acc.add(e);
        }
        return n == 0 ? 0f
                : L == 8 ? acc.lane(0) + acc.lane(1) + acc.lane(2) + acc.lane(3) + acc.lane(4) + acc.lane(5)
                        + acc.lane(6) + acc.lane(7) : addLanes(acc);
    }

    @Override
    public void scale(float[] y, int o, int n, float a) {
        int bound = S.loopBound(n);
        FloatVector by = FloatVector.broadcast(S, a);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromArray(S, y, o + i).mul(by).intoArray(y, o + i);
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

    /** In 8 × 8 register tiles ({@link VectorTranspose}). */
    @Override
    public void packColumns(float[] src, int at, int stride, int rows, int width, float[] dst, int ld) {
        VectorTranspose.transpose(src, at, stride, rows, width, dst, 0, ld);
    }

    @Override
    public int padding() {
        return PL;
    }

    /**
     * Groups of four rows, two vectors of columns at a time while more than one is left (eight
     * independent sums), then one; the rows left over one at a time.
     */
    @Override
    public void product(int rows, int cols, int k0, int k1, float alpha, float[] a, int ao, int ars, int acs, float[] b,
                        int bo, int ldb, float[] c, int co, int ldc) {
        int r = 0;
        for (; r + 4 <= rows; r += 4) {
            int x = 0;
            for (; x + PL < cols; x += 2 * PL) {
                four2(k0, k1, alpha, a, ao + r * ars, ars, acs, b, bo + x, ldb, c, co + r * ldc + x, ldc);
            }
            if (x < cols) {
                four1(k0, k1, alpha, a, ao + r * ars, ars, acs, b, bo + x, ldb, c, co + r * ldc + x, ldc);
            }
        }
        for (; r < rows; r++) {
            for (int x = 0; x < cols; x += PL) {
                one(k0, k1, alpha, a, ao + r * ars, acs, b, bo + x, ldb, c, co + r * ldc + x);
            }
        }
    }

    /**
     * Four rows by two vectors of columns. The loop over k takes two steps a round (the second
     * a copy of the first): each multiply-add meets its accumulator in the same order, so the
     * bits are those of one step a round. The attention of the GPT's heads (64 × 32, causal, one
     * thread, the products about two thirds of it) took 9.3–9.8 µs an item forward against
     * 10.8–10.9 and 17.2–17.7 backward against 19.9–20.4 under {@code -XX:UseAVX=2} on a Zen 4
     * (about 8.3 against 8.9 and 13.6 against 15.1 with AVX-512): the k loops are short (32 steps,
     * or the visible keys), so the loop's own work weighed.
     */
    private static void four2(int k0, int k1, float alpha, float[] a, int ao, int ars, int acs, float[] b, int bo,
                              int ldb, float[] c, int co, int ldc) {
        FloatVector c00 = FloatVector.zero(P);
        FloatVector c01 = FloatVector.zero(P);
        FloatVector c10 = FloatVector.zero(P);
        FloatVector c11 = FloatVector.zero(P);
        FloatVector c20 = FloatVector.zero(P);
        FloatVector c21 = FloatVector.zero(P);
        FloatVector c30 = FloatVector.zero(P);
        FloatVector c31 = FloatVector.zero(P);
        int a1 = ao + ars;
        int a2 = a1 + ars;
        int a3 = a2 + ars;
        int y = k0;
        for (; y + 1 < k1; y += 2) {
            int at = bo + y * ldb;
            int ay = y * acs;
            FloatVector b0 = FloatVector.fromArray(P, b, at);
            FloatVector b1 = FloatVector.fromArray(P, b, at + PL);
            FloatVector x0 = FloatVector.broadcast(P, a[ao + ay]);
            FloatVector x1 = FloatVector.broadcast(P, a[a1 + ay]);
            FloatVector x2 = FloatVector.broadcast(P, a[a2 + ay]);
            FloatVector x3 = FloatVector.broadcast(P, a[a3 + ay]);
            c00 = x0.fma(b0, c00);
            c01 = x0.fma(b1, c01);
            c10 = x1.fma(b0, c10);
            c11 = x1.fma(b1, c11);
            c20 = x2.fma(b0, c20);
            c21 = x2.fma(b1, c21);
            c30 = x3.fma(b0, c30);
            c31 = x3.fma(b1, c31);
            at += ldb;
            ay += acs;
            b0 = FloatVector.fromArray(P, b, at);
            b1 = FloatVector.fromArray(P, b, at + PL);
            x0 = FloatVector.broadcast(P, a[ao + ay]);
            x1 = FloatVector.broadcast(P, a[a1 + ay]);
            x2 = FloatVector.broadcast(P, a[a2 + ay]);
            x3 = FloatVector.broadcast(P, a[a3 + ay]);
            c00 = x0.fma(b0, c00);
            c01 = x0.fma(b1, c01);
            c10 = x1.fma(b0, c10);
            c11 = x1.fma(b1, c11);
            c20 = x2.fma(b0, c20);
            c21 = x2.fma(b1, c21);
            c30 = x3.fma(b0, c30);
            c31 = x3.fma(b1, c31);
        }
        if (y < k1) {
            int at = bo + y * ldb;
            int ay = y * acs;
            FloatVector b0 = FloatVector.fromArray(P, b, at);
            FloatVector b1 = FloatVector.fromArray(P, b, at + PL);
            FloatVector x0 = FloatVector.broadcast(P, a[ao + ay]);
            FloatVector x1 = FloatVector.broadcast(P, a[a1 + ay]);
            FloatVector x2 = FloatVector.broadcast(P, a[a2 + ay]);
            FloatVector x3 = FloatVector.broadcast(P, a[a3 + ay]);
            c00 = x0.fma(b0, c00);
            c01 = x0.fma(b1, c01);
            c10 = x1.fma(b0, c10);
            c11 = x1.fma(b1, c11);
            c20 = x2.fma(b0, c20);
            c21 = x2.fma(b1, c21);
            c30 = x3.fma(b0, c30);
            c31 = x3.fma(b1, c31);
        }
        FloatVector by = FloatVector.broadcast(P, alpha);
        c00.mul(by).intoArray(c, co);
        c01.mul(by).intoArray(c, co + PL);
        c10.mul(by).intoArray(c, co + ldc);
        c11.mul(by).intoArray(c, co + ldc + PL);
        c20.mul(by).intoArray(c, co + 2 * ldc);
        c21.mul(by).intoArray(c, co + 2 * ldc + PL);
        c30.mul(by).intoArray(c, co + 3 * ldc);
        c31.mul(by).intoArray(c, co + 3 * ldc + PL);
    }

    private static void four1(int k0, int k1, float alpha, float[] a, int ao, int ars, int acs, float[] b, int bo,
                              int ldb, float[] c, int co, int ldc) {
        FloatVector c0 = FloatVector.zero(P);
        FloatVector c1 = FloatVector.zero(P);
        FloatVector c2 = FloatVector.zero(P);
        FloatVector c3 = FloatVector.zero(P);
        int a1 = ao + ars;
        int a2 = a1 + ars;
        int a3 = a2 + ars;
        for (int y = k0; y < k1; y++) {
            FloatVector b0 = FloatVector.fromArray(P, b, bo + y * ldb);
            int ay = y * acs;
            c0 = FloatVector.broadcast(P, a[ao + ay]).fma(b0, c0);
            c1 = FloatVector.broadcast(P, a[a1 + ay]).fma(b0, c1);
            c2 = FloatVector.broadcast(P, a[a2 + ay]).fma(b0, c2);
            c3 = FloatVector.broadcast(P, a[a3 + ay]).fma(b0, c3);
        }
        FloatVector by = FloatVector.broadcast(P, alpha);
        c0.mul(by).intoArray(c, co);
        c1.mul(by).intoArray(c, co + ldc);
        c2.mul(by).intoArray(c, co + 2 * ldc);
        c3.mul(by).intoArray(c, co + 3 * ldc);
    }

    private static void one(int k0, int k1, float alpha, float[] a, int ao, int acs, float[] b, int bo, int ldb,
                            float[] c, int co) {
        FloatVector c0 = FloatVector.zero(P);
        for (int y = k0; y < k1; y++) {
            c0 = FloatVector.broadcast(P, a[ao + y * acs]).fma(FloatVector.fromArray(P, b, bo + y * ldb), c0);
        }
        c0.mul(FloatVector.broadcast(P, alpha)).intoArray(c, co);
    }

    /**
     * The lanes' sum, added in lane order. Eight lanes (256-bit vectors, the default) are read
     * from the register: spilled to a per-thread array and read back, one row's sum cost a
     * tenth of the small-head forward pass.
     *
     * <p>{@link #dot}, {@link #expShifted} and {@link #expShiftedPadded} write the eight-lane
     * sum out rather than call this: C2 inlines them into {@link SmallHeadAttention}'s large
     * item methods and then stops inlining there ({@code NodeCountInliningCutoff}), so a call
     * of this method stayed a call and boxed its vector argument, some 70 bytes of garbage a
     * row (2.3 MB a GPT iteration): {@code AttentionBench} at {@code T} = 64 allocated 394 KB an
     * operation less, forward and backward. The blocked path of long sequences boxed the same
     * way in {@link #expShifted}: at {@code T} = 256 its forward allocated 4.0 MB an operation
     * with the call and 2.1 MB without (4.8 against 4.3 ms, {@code -XX:UseAVX=2}). The three
     * copies of the sum are the price of no call; each is the lane order of this method.
     */
    private static float addLanes(FloatVector v) {
        if (L == 8) {
            return v.lane(0) + v.lane(1) + v.lane(2) + v.lane(3) + v.lane(4) + v.lane(5) + v.lane(6) + v.lane(7);
        }
        float[] lanes = SPILL.get();
        v.intoArray(lanes, 0);
        float sum = lanes[0];
        for (int lane = 1; lane < L; lane++) {
            sum += lanes[lane];
        }
        return sum;
    }
}
