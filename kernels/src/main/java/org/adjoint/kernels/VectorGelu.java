package org.adjoint.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * GELU and its derivative with vectors: {@link ElementWise#gelu} and {@link ElementWise#geluGrad}
 * lane by lane, the scalar kernel's operations in its order with {@link #exp} (the operations
 * of {@link VectorElementWise#exp}) in place of {@link Math#exp}.
 *
 * <p>Each element is one long chain of dependent operations (the exponential's polynomial, a
 * division, the tail's 11-term polynomial), some 50 instructions and over 100 cycles from load
 * to store, and the core's schedulers fill with one vector's waiting chain before they reach
 * the next vector's. The loops therefore run on the widest vectors the CPU has
 * ({@link VectorMicroKernel#tallSpecies()}, 512 bits on AVX-512): a Zen 4 splits each 512-bit
 * instruction into two 256-bit halves, so one instruction in the window carries two chains.
 * On a Zen 4 that took GELU over 393,216 floats from 718 to 493 µs, and its fused derivative
 * from 747 to 521 ({@code ElementWiseBench}, one kernel thread). Writing two 256-bit chains interleaved in the source
 * did not help (C2 schedules its own order). Every operation here is lane by lane, so the
 * width does not change a lane's bits: what is left below a whole wide vector (a multiple of
 * the provider's width) runs as one wide vector with its loads and stores masked, and the
 * tail below the provider's width goes to the scalar kernel as in every other loop.
 *
 * <p>The exponential is a copy of {@link VectorElementWise#exp} for this width. Sharing that
 * method between two widths made the whole GPT iteration twice as slow on one thread: where
 * C2 did not inline it, its compiled body saw two vector classes and boxed every vector.
 */
final class VectorGelu {

    private static final VectorSpecies<Float> WIDE = VectorMicroKernel.tallSpecies();
    private static final int WIDE_LENGTH = WIDE.length();

    private static final float LOG2_E = VectorElementWise.LOG2_E;
    private static final float LN2_HIGH = VectorElementWise.LN2_HIGH;
    private static final float LN2_LOW = VectorElementWise.LN2_LOW;
    private static final float ROUNDER = VectorElementWise.ROUNDER;
    private static final int ROUNDER_BITS = VectorElementWise.ROUNDER_BITS;

    private VectorGelu() {
    }

    /**
     * {@code out = gelu(x)} over {@code [0, bound)}, {@code bound} a multiple of the provider's
     * vector length. GELU and its derivative share one loop ({@link #apply}); the product with
     * the cotangent has its own. The last, partial wide vector goes round the loop once more,
     * masked, so that each loop has one call site of {@link #gelu}. Only that one is masked: an
     * AVX2 CPU has no cheap masked store (AMD's {@code vmaskmovps} to memory is microcoded), and
     * masking every vector had made GELU over 393,216 floats 770 µs against 650 on a Zen 4 core
     * under {@code -XX:UseAVX=2} (its derivative times the cotangent 850 against 660; with
     * AVX-512's mask registers the two loops run alike).
     *
     * @return {@code bound}
     */
    static int forward(float[] x, int xo, float[] out, int oo, int bound) {
        return apply(x, xo, out, oo, bound, false);
    }

    /** {@code out = gelu'(x)} over {@code [0, bound)}, as {@link #forward}. */
    static int derivative(float[] x, int xo, float[] out, int oo, int bound) {
        return apply(x, xo, out, oo, bound, true);
    }

    /**
     * The loop of {@link #forward} and {@link #derivative}. Where C2 compiles it apart from its
     * callers, {@code derivative} is a branch per vector, not a constant: GELU over 393,216
     * floats took 455 µs against 430 with a loop per function (Zen 4, AVX-512; alike under
     * {@code -XX:UseAVX=2}). Moving the masked load and store into helper methods instead made it
     * 1,260 µs: their vectors were boxed.
     */
    private static int apply(float[] x, int xo, float[] out, int oo, int bound, boolean derivative) {
        for (int i = 0; i < bound; i += WIDE_LENGTH) {
            boolean whole = i + WIDE_LENGTH <= bound;
            FloatVector y = gelu(whole ? FloatVector.fromArray(WIDE, x, xo + i)
                    : FloatVector.fromArray(WIDE, x, xo + i, WIDE.indexInRange(i, bound)), derivative);
            if (whole) {
                y.intoArray(out, oo + i);
            } else {
                y.intoArray(out, oo + i, WIDE.indexInRange(i, bound));
            }
        }
        return bound;
    }

    /**
     * {@code out = grad · gelu'(x)} over {@code [0, bound)}, as {@link #forward}: the product
     * after the derivative.
     */
    static int derivativeTimes(float[] x, int xo, float[] grad, int go, float[] out, int oo, int bound) {
        for (int i = 0; i < bound; i += WIDE_LENGTH) {
            boolean whole = i + WIDE_LENGTH <= bound;
            FloatVector factor = gelu(whole ? FloatVector.fromArray(WIDE, x, xo + i)
                    : FloatVector.fromArray(WIDE, x, xo + i, WIDE.indexInRange(i, bound)), true);
            if (whole) {
                FloatVector.fromArray(WIDE, grad, go + i).mul(factor).intoArray(out, oo + i);
            } else {
                VectorMask<Float> in = WIDE.indexInRange(i, bound);
                FloatVector.fromArray(WIDE, grad, go + i, in).mul(factor).intoArray(out, oo + i, in);
            }
        }
        return bound;
    }

    /**
     * {@link ElementWise#gelu} (or, with {@code derivative}, {@link ElementWise#geluGrad}) of one
     * wide vector: the scalar kernel's operations in its order, {@link #exp} in place of
     * {@link Math#exp}, so the two agree within the exponential's 2 ulps (and a rounding or two
     * where that difference passes through {@code 1 − t}).
     */
    private static FloatVector gelu(FloatVector x, boolean derivative) {
        FloatVector one = FloatVector.broadcast(WIDE, 1f);
        // min(|x|, clamp) as a compare and a blend (see VectorElementWise.exp); |x| is never −0.
        FloatVector magnitude = x.abs();
        FloatVector a = magnitude.blend(ElementWise.NORMAL_TAIL_CLAMP,
                magnitude.compare(VectorOperators.GT, ElementWise.NORMAL_TAIL_CLAMP));
        FloatVector square = a.mul(a);
        FloatVector remainder = a.fma(a, square.neg());
        FloatVector g = exp(square.mul(-0.5f));
        g = g.fma(remainder.mul(-0.5f), g);
        FloatVector tau = one.div(a.fma(FloatVector.broadcast(WIDE, ElementWise.NORMAL_TAIL_SCALE), one));
        float[] c = ElementWise.NORMAL_TAIL;
        FloatVector p = FloatVector.broadcast(WIDE, c[c.length - 1]);
        for (int k = c.length - 2; k >= 0; k--) {
            p = p.fma(tau, FloatVector.broadcast(WIDE, c[k]));
        }
        FloatVector t = p.mul(tau).mul(g);
        FloatVector cdf = one.sub(t).blend(t, x.compare(VectorOperators.LT, 0f));
        return derivative ? cdf.add(x.mul(g.mul(ElementWise.INV_SQRT_2PI))) : x.mul(cdf);
    }

    /**
     * {@link VectorElementWise#exp}, operation for operation, on {@link #WIDE} vectors, for
     * {@code x = −a²/2 ≤ 0} (or NaN): the upper clamp, which changes no such lane, is left out.
     */
    private static FloatVector exp(FloatVector x) {
        FloatVector clamped = x.blend(VectorElementWise.EXP_FLOOR,
                x.compare(VectorOperators.LT, VectorElementWise.EXP_VANISHES));
        FloatVector shifted = clamped.fma(FloatVector.broadcast(WIDE, LOG2_E), FloatVector.broadcast(WIDE, ROUNDER));
        FloatVector n = shifted.sub(ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(WIDE, -LN2_HIGH), clamped);
        r = n.fma(FloatVector.broadcast(WIDE, -LN2_LOW), r);
        FloatVector p = FloatVector.broadcast(WIDE, 1f / 5040);
        p = p.fma(r, FloatVector.broadcast(WIDE, 1f / 720));
        p = p.fma(r, FloatVector.broadcast(WIDE, 1f / 120));
        p = p.fma(r, FloatVector.broadcast(WIDE, 1f / 24));
        p = p.fma(r, FloatVector.broadcast(WIDE, 1f / 6));
        p = p.fma(r, FloatVector.broadcast(WIDE, 0.5f));
        p = p.fma(r, FloatVector.broadcast(WIDE, 1f));
        p = p.fma(r, FloatVector.broadcast(WIDE, 1f));
        IntVector whole = shifted.reinterpretAsInts().sub(ROUNDER_BITS);
        IntVector half = whole.lanewise(VectorOperators.ASHR, 1);
        IntVector rest = whole.sub(half);
        FloatVector first = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector second = rest.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(first).mul(second);
    }
}
