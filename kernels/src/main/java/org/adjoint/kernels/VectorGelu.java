package org.adjoint.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * GELU and its derivative with vectors: {@link ElementWise#gelu} and {@link ElementWise#geluGrad}
 * lane by lane, the scalar kernel's operations in its order with {@link VectorElementWise#exp}
 * in place of {@link Math#exp}.
 *
 * <p>Each element is one long chain of dependent operations (the exponential's polynomial, a
 * division, the tail's 11-term polynomial), some 50 instructions and over 100 cycles from load
 * to store, and the core's schedulers fill with one vector's waiting chain before they reach
 * the next vector's. The loops therefore run on the widest vectors the CPU has
 * ({@link VectorMicroKernel#tallSpecies()}, 512 bits on AVX-512): a Zen 4 splits each 512-bit
 * instruction into two 256-bit halves, so one instruction in the window carries two chains.
 * On one Zen 4 core that took GELU over 393,216 floats from 590 to 410 µs of CPU time, and
 * its fused derivative from 620 to 445. Writing two 256-bit chains interleaved in the source
 * did not help (C2 schedules its own order). Every operation here is lane by lane, so the
 * width does not change a lane's bits: what is left below a wide vector runs on the provider's
 * own width, and the tail below that goes to the scalar kernel as in every other loop.
 */
final class VectorGelu {

    private static final VectorSpecies<Float> S = VectorMicroKernel.SPECIES;
    private static final int L = S.length();
    private static final VectorSpecies<Float> WIDE = VectorMicroKernel.tallSpecies();
    private static final int WIDE_LENGTH = WIDE.length();

    private VectorGelu() {
    }

    /**
     * {@code out = gelu(x)} over {@code [0, bound)}, {@code bound} a multiple of the provider's
     * vector length. One loop method per function, as in {@link VectorElementWise#unary}.
     *
     * @return {@code bound}
     */
    static int forward(float[] x, int xo, float[] out, int oo, int bound) {
        int i = 0;
        for (; i + WIDE_LENGTH <= bound; i += WIDE_LENGTH) {
            gelu(FloatVector.fromArray(WIDE, x, xo + i), false).intoArray(out, oo + i);
        }
        for (; i < bound; i += L) {
            gelu(FloatVector.fromArray(S, x, xo + i), false).intoArray(out, oo + i);
        }
        return bound;
    }

    /** {@code out = gelu'(x)} over {@code [0, bound)}, as {@link #forward}. */
    static int derivative(float[] x, int xo, float[] out, int oo, int bound) {
        int i = 0;
        for (; i + WIDE_LENGTH <= bound; i += WIDE_LENGTH) {
            gelu(FloatVector.fromArray(WIDE, x, xo + i), true).intoArray(out, oo + i);
        }
        for (; i < bound; i += L) {
            gelu(FloatVector.fromArray(S, x, xo + i), true).intoArray(out, oo + i);
        }
        return bound;
    }

    /** {@code out = grad · gelu'(x)} over {@code [0, bound)}, as {@link #forward}: the product after the derivative. */
    static int derivativeTimes(float[] x, int xo, float[] grad, int go, float[] out, int oo, int bound) {
        int i = 0;
        for (; i + WIDE_LENGTH <= bound; i += WIDE_LENGTH) {
            FloatVector factor = gelu(FloatVector.fromArray(WIDE, x, xo + i), true);
            FloatVector.fromArray(WIDE, grad, go + i).mul(factor).intoArray(out, oo + i);
        }
        for (; i < bound; i += L) {
            FloatVector factor = gelu(FloatVector.fromArray(S, x, xo + i), true);
            FloatVector.fromArray(S, grad, go + i).mul(factor).intoArray(out, oo + i);
        }
        return bound;
    }

    /**
     * {@link ElementWise#gelu} (or, with {@code derivative}, {@link ElementWise#geluGrad}) of one
     * vector: within the exponential's 2 ulps of the scalar kernel (and a rounding or two where
     * that difference passes through {@code 1 − t}).
     */
    static FloatVector gelu(FloatVector x, boolean derivative) {
        FloatVector one = x.broadcast(1f);
        FloatVector a = x.abs().min(ElementWise.NORMAL_TAIL_CLAMP);
        FloatVector square = a.mul(a);
        FloatVector remainder = a.fma(a, square.neg());
        FloatVector g = VectorElementWise.exp(square.mul(-0.5f));
        g = g.fma(remainder.mul(-0.5f), g);
        FloatVector tau = one.div(a.fma(x.broadcast(ElementWise.NORMAL_TAIL_SCALE), one));
        float[] c = ElementWise.NORMAL_TAIL;
        FloatVector p = x.broadcast(c[c.length - 1]);
        for (int k = c.length - 2; k >= 0; k--) {
            p = p.fma(tau, x.broadcast(c[k]));
        }
        FloatVector t = p.mul(tau).mul(g);
        FloatVector cdf = one.sub(t).blend(t, x.compare(VectorOperators.LT, 0f));
        return derivative ? cdf.add(x.mul(g.mul(ElementWise.INV_SQRT_2PI))) : x.mul(cdf);
    }
}
