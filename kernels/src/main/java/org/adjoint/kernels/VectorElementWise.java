package org.adjoint.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API versions of the element-wise and row loops. Each loop runs whole
 * vectors and hands its tail (fewer than one vector of elements) to the scalar kernel, so
 * both providers agree exactly on the tail and within 2 ulps on the body.
 *
 * <p>Results must not depend on whether a loop runs interpreted or compiled, or training
 * would not be bitwise reproducible: the Vector API's {@code EXP} and {@code LOG} are computed
 * by an intrinsic in C2-compiled code and by a different Java fallback in the interpreter, and
 * their last bits differ, and so do {@code TANH}'s for large arguments. So {@code exp} and
 * {@code tanh} are our own ({@link #exp(FloatVector)}, {@link #tanh(FloatVector)}), plain
 * arithmetic that is the same in both, and {@code log} runs the scalar {@link Math#log},
 * which HotSpot keeps consistent. DeterminismTest checks them in an interpreted child JVM.
 *
 * <p>The sums, maxima and softmax along an axis are {@link VectorReductions}'.
 */
final class VectorElementWise {

    private static final VectorSpecies<Float> S = VectorMicroKernel.SPECIES;
    private static final int L = S.length();

    private VectorElementWise() {
    }

    /**
     * {@code out = f(x)} over {@code n} elements. Each function's loop is a method of its own:
     * compiled inside one method holding every case, the same loops ran four to six times
     * slower (EXP at 2.2–3.6 ns an element against 0.53 alone, on a Zen 4), so the switch only
     * picks the loop.
     */
    static void unary(ElementWise.Unary function, float parameter, float[] x, int xo, float[] out, int oo, int n) {
        int bound = S.loopBound(n);
        int i = switch (function) {
            case NEG -> negLoop(x, xo, out, oo, bound);
            case EXP -> expLoop(x, xo, out, oo, bound);
            // LOG: every element goes to the scalar loop; see the class description.
            case LOG -> 0;
            case SQRT -> sqrtLoop(x, xo, out, oo, bound);
            case TANH -> tanhLoop(x, xo, out, oo, bound);
            case SIGMOID -> sigmoidLoop(x, xo, out, oo, bound);
            case RELU -> reluLoop(x, xo, out, oo, bound);
            case STEP -> stepLoop(x, xo, out, oo, bound);
            case POW -> pow(parameter, x, xo, out, oo, bound);
            case GELU -> VectorGelu.forward(x, xo, out, oo, bound);
            case GELU_GRAD -> VectorGelu.derivative(x, xo, out, oo, bound);
        };
        ElementWise.apply(function, parameter, x, xo + i, out, oo + i, n - i);
    }

    /**
     * {@link ElementWise#applyTimes} with vectors: {@code out = grad · f(x)}, f's vector loop
     * body then the product, the tail to the scalar kernel, so the same bits as
     * {@link #unary} followed by a product. One loop method per function, as in {@link #unary}.
     */
    static void unaryTimes(ElementWise.Unary function, float[] x, int xo, float[] grad, int go, float[] out, int oo,
                           int n) {
        int bound = S.loopBound(n);
        int i = switch (function) {
            case STEP -> stepTimesLoop(x, xo, grad, go, out, oo, bound);
            case GELU_GRAD -> VectorGelu.derivativeTimes(x, xo, grad, go, out, oo, bound);
            default -> throw ElementWise.unfused(function);
        };
        ElementWise.applyTimes(function, x, xo + i, grad, go + i, out, oo + i, n - i);
    }

    private static int stepTimesLoop(float[] x, int xo, float[] grad, int go, float[] out, int oo, int bound) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (int i = 0; i < bound; i += L) {
            VectorMask<Float> positive = FloatVector.fromArray(S, x, xo + i).compare(VectorOperators.GT, 0f);
            // A product, not a blend: −g · 0 is −0 and NaN · 0 NaN, as in the two-pass form.
            FloatVector.fromArray(S, grad, go + i).mul(zero.blend(one, positive)).intoArray(out, oo + i);
        }
        return bound;
    }

    private static int negLoop(float[] x, int xo, float[] out, int oo, int bound) {
        for (int i = 0; i < bound; i += L) {
            FloatVector.fromArray(S, x, xo + i).neg().intoArray(out, oo + i);
        }
        return bound;
    }

    private static int expLoop(float[] x, int xo, float[] out, int oo, int bound) {
        for (int i = 0; i < bound; i += L) {
            exp(FloatVector.fromArray(S, x, xo + i)).intoArray(out, oo + i);
        }
        return bound;
    }

    private static int sqrtLoop(float[] x, int xo, float[] out, int oo, int bound) {
        for (int i = 0; i < bound; i += L) {
            FloatVector.fromArray(S, x, xo + i).sqrt().intoArray(out, oo + i);
        }
        return bound;
    }

    private static int tanhLoop(float[] x, int xo, float[] out, int oo, int bound) {
        for (int i = 0; i < bound; i += L) {
            tanh(FloatVector.fromArray(S, x, xo + i)).intoArray(out, oo + i);
        }
        return bound;
    }

    private static int sigmoidLoop(float[] x, int xo, float[] out, int oo, int bound) {
        for (int i = 0; i < bound; i += L) {
            sigmoid(FloatVector.fromArray(S, x, xo + i)).intoArray(out, oo + i);
        }
        return bound;
    }

    private static int reluLoop(float[] x, int xo, float[] out, int oo, int bound) {
        for (int i = 0; i < bound; i += L) {
            FloatVector.fromArray(S, x, xo + i).max(0f).intoArray(out, oo + i);
        }
        return bound;
    }

    private static int stepLoop(float[] x, int xo, float[] out, int oo, int bound) {
        for (int i = 0; i < bound; i += L) {
            VectorMask<Float> positive = FloatVector.fromArray(S, x, xo + i).compare(VectorOperators.GT, 0f);
            FloatVector.zero(S).blend(FloatVector.broadcast(S, 1f), positive).intoArray(out, oo + i);
        }
        return bound;
    }

    /** σ(x) = 1 / (1 + e^−|x|) for x ≥ 0 and e^−|x| / (1 + e^−|x|) below: no overflow either way. */
    private static FloatVector sigmoid(FloatVector v) {
        FloatVector e = exp(v.abs().neg());
        FloatVector denominator = e.add(1f);
        VectorMask<Float> negative = v.compare(VectorOperators.LT, 0f);
        return FloatVector.broadcast(S, 1f).blend(e, negative).div(denominator);
    }

    static final float LOG2_E = 1.44269504f;
    /** ln 2 split so that {@code n · LN2_HIGH} is exact for the n that occur (|n| ≤ 254; up to 511). */
    static final float LN2_HIGH = 0.693145752f;
    static final float LN2_LOW = 1.42860677e-6f;
    /** 1.5 · 2^23: adding it rounds a float below 2^22 in magnitude to an integer in the low bits. */
    static final float ROUNDER = 12582912f;
    static final int ROUNDER_BITS = Float.floatToRawIntBits(ROUNDER);
    /**
     * Where {@link #exp(FloatVector)} computes from for every x below {@link #EXP_VANISHES}
     * (whose e^x is under half the smallest subnormal, so 0): {@code n = −254}, so that the first power of two,
     * {@code 2^(n/2)} with {@code n/2 = −127}, has the bits of +0 and the product is 0 without
     * ever being subnormal.
     */
    static final float EXP_FLOOR = -176f;
    /** Below this e^x rounds to 0 (under half the smallest subnormal), computed from {@link #EXP_FLOOR}. */
    static final float EXP_VANISHES = -104f;

    /**
     * e^x in float: {@code x = n·ln 2 + r} with |r| ≤ ln 2 / 2, e^r by its Taylor polynomial to
     * degree 7 (truncation below 1e-8 relative), then scaled by 2^n as two exact powers of two
     * so that results near overflow and in the subnormal range come out right. Within 2 ulps
     * of {@link Math#exp}; NaN stays NaN, −∞ and x below −104 give 0, +∞ and x above 89 give +∞.
     *
     * <p>Arguments below −104 are replaced by {@link #EXP_FLOOR}, not clamped to −104, for
     * speed: on Intel cores a multiply whose result is subnormal, or rounds to 0 from below the
     * smallest normal, costs a microcode assist, and from −104 the last multiply did
     * (2^−75 · 2^−75). An exponential of −∞ is every masked entry of a softmax (a causal
     * {@code maskedFill} with −∞): on the Intel Xeon of 2026-12-06 ({@code ElementWiseBench},
     * one thread, 1,536 rows of 256) the causal softmax took 1.66–1.70 ms against 0.43–0.44
     * unmasked, and 0.42–0.45 after, the unmasked one unchanged; the exponential of −∞ alone
     * went from 13× the cost of an ordinary argument to 1×. Arguments between −104 and −87.3,
     * whose results are subnormal, still pay it.
     *
     * <p>The clamp is a compare and a blend at each end, not {@code max(−104).min(89)}: Java's
     * {@code min} and {@code max} keep NaN and put −0 below +0, which C2 spells on x86 as four or
     * five instructions per vector, while against a bound that is neither zero nor NaN the compare
     * and blend give the same lanes (a NaN compares false and stays). In GELU's loop
     * ({@link VectorGelu}, the same change) this took 393,216 values from 730 to 535 µs under
     * {@code -XX:UseAVX=2} and from 405 to 320 µs with AVX-512 (one Zen 4 core).
     */
    static FloatVector exp(FloatVector x) {
        FloatVector low = x.blend(EXP_FLOOR, x.compare(VectorOperators.LT, EXP_VANISHES));
        FloatVector clamped = low.blend(89f, low.compare(VectorOperators.GT, 89f));
        FloatVector shifted = clamped.fma(FloatVector.broadcast(S, LOG2_E), FloatVector.broadcast(S, ROUNDER));
        FloatVector n = shifted.sub(ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HIGH), clamped);
        r = n.fma(FloatVector.broadcast(S, -LN2_LOW), r);
        FloatVector p = FloatVector.broadcast(S, 1f / 5040);
        p = p.fma(r, FloatVector.broadcast(S, 1f / 720));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 120));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 24));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 6));
        p = p.fma(r, FloatVector.broadcast(S, 0.5f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        IntVector whole = shifted.reinterpretAsInts().sub(ROUNDER_BITS);
        IntVector half = whole.lanewise(VectorOperators.ASHR, 1);
        IntVector rest = whole.sub(half);
        FloatVector first = half.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector second = rest.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(first).mul(second);
    }

    /** Taylor coefficients of tanh x / x − 1 in powers of x², from x² to x¹⁶. */
    private static final float[] TANH_SERIES = {
        -1f / 3, 2f / 15, -17f / 315, 62f / 2835, -1382f / 155925, 21844f / 6081075, -929569f / 638512875,
        6404582f / 10854718875f};
    /** Below this |x| the series (truncated after x¹⁷) is within an ulp; above, the exp form is. */
    private static final float TANH_SERIES_BOUND = 0.625f;

    /**
     * tanh x: its odd Taylor series for |x| below 0.625, where {@code 1 − 2 / (e^2|x| + 1)}
     * would cancel, and that form above, with the sign of x. Within 2 ulps of {@link Math#tanh}.
     */
    static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        FloatVector a2 = a.mul(a);
        FloatVector q = FloatVector.broadcast(S, TANH_SERIES[TANH_SERIES.length - 1]);
        for (int c = TANH_SERIES.length - 2; c >= 0; c--) {
            q = q.fma(a2, FloatVector.broadcast(S, TANH_SERIES[c]));
        }
        FloatVector series = a.mul(a2).fma(q, a);
        FloatVector two = FloatVector.broadcast(S, 2f);
        FloatVector large = FloatVector.broadcast(S, 1f).sub(two.div(exp(a.mul(two)).add(1f)));
        FloatVector magnitude = series.blend(large, a.compare(VectorOperators.GE, TANH_SERIES_BOUND));
        // Copy the sign bit of x (−0 stays −0; NaN stays NaN through both branches).
        IntVector sign = x.reinterpretAsInts().and(Integer.MIN_VALUE);
        return magnitude.reinterpretAsInts().or(sign).reinterpretAsFloats();
    }

    private static int pow(float p, float[] x, int xo, float[] out, int oo, int bound) {
        int i = 0;
        if (p == 2f) {
            for (; i < bound; i += L) {
                FloatVector v = FloatVector.fromArray(S, x, xo + i);
                v.mul(v).intoArray(out, oo + i);
            }
        } else if (p == -1f) {
            FloatVector one = FloatVector.broadcast(S, 1f);
            for (; i < bound; i += L) {
                one.div(FloatVector.fromArray(S, x, xo + i)).intoArray(out, oo + i);
            }
        }
        // Other exponents go to the scalar loop: Math.pow's special cases are subtle, and
        // general powers are rare in training.
        return i;
    }

    /** {@link Fused#biasActivation} on rows {@code [first, end)} with vectors. */
    static void biasActivation(Fused.Activation activation, float[] y, float[] bias, int first, int end, int cols) {
        int bound = S.loopBound(cols);
        FloatVector zero = FloatVector.zero(S);
        for (int r = first; r < end; r++) {
            int base = r * cols;
            int c = 0;
            for (; c < bound; c += L) {
                FloatVector v = FloatVector.fromArray(S, y, base + c);
                if (bias != null) {
                    v = v.add(FloatVector.fromArray(S, bias, c));
                }
                v = switch (activation) {
                    case IDENTITY -> v;
                    case RELU -> v.max(zero);
                    case TANH -> tanh(v);
                    case SIGMOID -> sigmoid(v);
                };
                v.intoArray(y, base + c);
            }
            Fused.biasActivationRow(activation, y, base, bias, c, cols);
        }
    }

    static void activationGrad(Fused.Activation activation, float[] y, float[] cotangent, float[] out, int n) {
        int bound = S.loopBound(n);
        FloatVector zero = FloatVector.zero(S);
        FloatVector one = FloatVector.broadcast(S, 1f);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector g = FloatVector.fromArray(S, cotangent, i);
            FloatVector v = FloatVector.fromArray(S, y, i);
            g = switch (activation) {
                case IDENTITY -> g;
                case RELU -> zero.blend(g, v.compare(VectorOperators.GT, 0f));
                case TANH -> g.mul(one.sub(v.mul(v)));
                case SIGMOID -> g.mul(v.mul(one.sub(v)));
            };
            g.intoArray(out, i);
        }
        Fused.activationGrad(activation, y, cotangent, out, i, n);
    }

    /**
     * {@link ElementWise#adam} with vectors: the operations of the composed update on this
     * provider ({@link #axpy}'s fused multiply-adds, exact products, quotients and square
     * roots), element by element, so that fused and composed give the same bits.
     */
    static void adam(float[] p, float[] g, float[] m, float[] v, int from, int to, float beta1, float beta2,
                     float sqrtCorrection2, float epsilon, float step, float decay, float shrink) {
        int bound = from + S.loopBound(to - from);
        FloatVector b1 = FloatVector.broadcast(S, beta1);
        FloatVector b2 = FloatVector.broadcast(S, beta2);
        FloatVector keep1 = FloatVector.broadcast(S, 1f - beta1);
        FloatVector keep2 = FloatVector.broadcast(S, 1f - beta2);
        FloatVector root2 = FloatVector.broadcast(S, sqrtCorrection2);
        FloatVector eps = FloatVector.broadcast(S, epsilon);
        FloatVector scale = FloatVector.broadcast(S, step);
        FloatVector decayBy = FloatVector.broadcast(S, decay);
        FloatVector shrinkBy = FloatVector.broadcast(S, shrink);
        FloatVector one = FloatVector.broadcast(S, 1f);
        boolean shrinks = shrink != 1f;
        boolean decays = decay != 0f;
        int i = from;
        for (; i < bound; i += L) {
            FloatVector param = FloatVector.fromArray(S, p, i);
            if (shrinks) {
                param = param.mul(shrinkBy);
            }
            FloatVector d = FloatVector.fromArray(S, g, i);
            if (decays) {
                d = d.fma(one, param.mul(decayBy));
            }
            FloatVector mi = d.fma(keep1, FloatVector.fromArray(S, m, i).mul(b1));
            FloatVector vi = d.mul(d).fma(keep2, FloatVector.fromArray(S, v, i).mul(b2));
            FloatVector direction = mi.div(vi.sqrt().div(root2).add(eps));
            direction.fma(scale, param).intoArray(p, i);
            mi.intoArray(m, i);
            vi.intoArray(v, i);
        }
        for (; i < to; i++) {
            float param = p[i];
            if (shrinks) {
                param *= shrink;
            }
            float d = g[i];
            if (decays) {
                d = Math.fma(d, 1f, param * decay);
            }
            float mi = Math.fma(d, 1f - beta1, m[i] * beta1);
            float vi = Math.fma(d * d, 1f - beta2, v[i] * beta2);
            float direction = mi / ((float) Math.sqrt(vi) / sqrtCorrection2 + epsilon);
            p[i] = Math.fma(direction, step, param);
            m[i] = mi;
            v[i] = vi;
        }
    }

    static void axpy(float alpha, float[] x, float[] y, int from, int to) {
        int bound = from + S.loopBound(to - from);
        FloatVector a = FloatVector.broadcast(S, alpha);
        int i = from;
        for (; i < bound; i += L) {
            FloatVector.fromArray(S, x, i).fma(a, FloatVector.fromArray(S, y, i)).intoArray(y, i);
        }
        for (; i < to; i++) {
            y[i] = Math.fma(x[i], alpha, y[i]);
        }
    }
}
