package org.adjoint.kernels;

import java.util.function.IntFunction;
import java.util.function.IntUnaryOperator;

/**
 * Element-wise functions of one contiguous array: {@code out[o + i] = f(x[x0 + i])} for
 * {@code 0 <= i < n}. {@code out} may be {@code x} with the same offset (in place).
 */
public final class ElementWise {

    private ElementWise() {
    }

    /** Identifies a unary function; the order is stable and used by backends as an index. */
    public enum Unary {
        /** {@code -x}. */
        NEG,
        /** {@code e^x}. */
        EXP,
        /** Natural logarithm. */
        LOG,
        /** Square root. */
        SQRT,
        /** Hyperbolic tangent. */
        TANH,
        /** Logistic function {@code 1 / (1 + e^-x)}. */
        SIGMOID,
        /** {@code max(x, 0)}. */
        RELU,
        /** Heaviside step: 1 where {@code x > 0}, else 0 (the derivative of ReLU). */
        STEP,
        /** {@code x^p} for the parameter {@code p}. */
        POW,
        /** Exact GELU {@code x·Φ(x)}, Φ the standard normal distribution function (see {@link #gelu}). */
        GELU,
        /** The derivative of {@link #GELU}: {@code Φ(x) + x·φ(x)}, φ the standard normal density. */
        GELU_GRAD
    }

    /**
     * The fewest elements of {@code function} worth a thread of their own ({@link Parallel#ranges}):
     * about 20–50 µs of work, more than handing a range to another thread costs.
     *
     * @param function the function
     * @return elements per range
     */
    static int grain(Unary function) {
        return switch (function) {
            case NEG, SQRT, RELU, STEP -> 1 << 16;
            case EXP, LOG, TANH, SIGMOID, POW, GELU, GELU_GRAD -> 1 << 14;
        };
    }

    /** The fewest elements of a memory-bound pass (a copy, a sum, a product) worth a thread of their own. */
    static final int MEMORY_GRAIN = 1 << 15;

    /**
     * The fewest elements of a softmax (a maximum, an exponential and a sum each, then a
     * quotient or a difference) worth a thread of their own; whole rows are split, never one.
     */
    static final int SOFTMAX_GRAIN = 1 << 14;

    /** The fewest parameters of an Adam update (four arrays, a square root and a quotient each) worth a thread of their own. */
    static final int ADAM_GRAIN = 1 << 14;

    /**
     * Applies {@code function} to {@code n} elements.
     *
     * @param function  which function
     * @param parameter its parameter (the exponent of {@link Unary#POW}; ignored otherwise)
     * @param x         input storage
     * @param xOffset   first input element
     * @param out       output storage
     * @param outOffset first output element
     * @param n         element count
     */
    public static void apply(Unary function, float parameter, float[] x, int xOffset, float[] out, int outOffset, int n) {
        switch (function) {
            case NEG -> {
                for (int i = 0; i < n; i++) {
                    out[outOffset + i] = -x[xOffset + i];
                }
            }
            case EXP -> {
                for (int i = 0; i < n; i++) {
                    out[outOffset + i] = (float) Math.exp(x[xOffset + i]);
                }
            }
            case LOG -> {
                for (int i = 0; i < n; i++) {
                    out[outOffset + i] = (float) Math.log(x[xOffset + i]);
                }
            }
            case SQRT -> {
                for (int i = 0; i < n; i++) {
                    out[outOffset + i] = (float) Math.sqrt(x[xOffset + i]);
                }
            }
            case TANH -> {
                for (int i = 0; i < n; i++) {
                    out[outOffset + i] = (float) Math.tanh(x[xOffset + i]);
                }
            }
            case SIGMOID -> {
                for (int i = 0; i < n; i++) {
                    out[outOffset + i] = sigmoid(x[xOffset + i]);
                }
            }
            case RELU -> {
                for (int i = 0; i < n; i++) {
                    out[outOffset + i] = Math.max(x[xOffset + i], 0f);
                }
            }
            case STEP -> {
                for (int i = 0; i < n; i++) {
                    out[outOffset + i] = x[xOffset + i] > 0f ? 1f : 0f;
                }
            }
            case POW -> pow(parameter, x, xOffset, out, outOffset, n);
            case GELU -> {
                for (int i = 0; i < n; i++) {
                    out[outOffset + i] = gelu(x[xOffset + i]);
                }
            }
            case GELU_GRAD -> {
                for (int i = 0; i < n; i++) {
                    out[outOffset + i] = geluGrad(x[xOffset + i]);
                }
            }
        }
    }

    /**
     * {@code out[o + i] = grad[g0 + i] · f(x[x0 + i])} in one pass, for the derivative functions
     * that a pointwise VJP multiplies by: {@link Unary#STEP} (ReLU's) and {@link Unary#GELU_GRAD}.
     * The same operations per element as {@link #apply} followed by a product, so the same bits
     * as the two passes. {@code out} may be {@code x} or {@code grad} with the same offset.
     *
     * @param function   {@code STEP} or {@code GELU_GRAD}
     * @param x          the function's argument
     * @param xOffset    first argument
     * @param grad       the factor each value multiplies
     * @param gradOffset first factor
     * @param out        output storage
     * @param outOffset  first output element
     * @param n          element count
     * @throws IllegalArgumentException for another function
     */
    public static void applyTimes(Unary function, float[] x, int xOffset, float[] grad, int gradOffset, float[] out,
                                  int outOffset, int n) {
        switch (function) {
            case STEP -> {
                for (int i = 0; i < n; i++) {
                    out[outOffset + i] = grad[gradOffset + i] * (x[xOffset + i] > 0f ? 1f : 0f);
                }
            }
            case GELU_GRAD -> {
                for (int i = 0; i < n; i++) {
                    out[outOffset + i] = grad[gradOffset + i] * geluGrad(x[xOffset + i]);
                }
            }
            default -> throw unfused(function);
        }
    }

    /** Whether {@link #applyTimes} takes {@code function}. */
    static boolean fusesTimes(Unary function) {
        return function == Unary.STEP || function == Unary.GELU_GRAD;
    }

    static IllegalArgumentException unfused(Unary function) {
        return new IllegalArgumentException("unaryTimes: no one-pass kernel for " + function
                + " (STEP and GELU_GRAD have one)");
    }

    /**
     * Coefficients of {@code P} in {@code Φ(−a) = e^(−a²/2) · τ · P(τ)} with {@code τ = 1 / (1 + 0.4·a)},
     * lowest power first: a weighted minimax fit of relative error 1.6e-8 over {@code 0 ≤ a ≤ 25}
     * (printed by {@code normal_tail_fit.py} in the kernels module's test resources).
     * The same numbers in the same order drive the vector and CUDA kernels.
     */
    static final float[] NORMAL_TAIL = {
        0.15957508981227875f, 0.1596454381942749f, 0.13297130167484283f, 0.09221293032169342f,
        -0.029660237953066826f, 0.12531836330890656f, -0.3818834125995636f, 0.3890836834907532f,
        -0.18037502467632294f, 0.03322402015328407f, -0.00011215779522899538f};
    /** The scale of {@code a} in {@code τ}. */
    static final float NORMAL_TAIL_SCALE = 0.4f;
    /**
     * Where the tail is clamped: {@code Φ(−15)} (4e-51) is 0 in float, and the clamp keeps
     * {@code a²} finite (an infinite {@code a} would make the exact-square correction NaN).
     */
    static final float NORMAL_TAIL_CLAMP = 15f;
    /** {@code 1 / √(2π)}. */
    static final float INV_SQRT_2PI = 0.3989422804014327f;

    /**
     * {@code e^(−a²/2)} for {@code 0 ≤ a ≤ 15}: {@code a²} rounded plus its exact remainder
     * {@code fma(a, a, −a²)}, which enters as the first-order factor {@code 1 − remainder/2}
     * (so the large exponent does not magnify the rounding of {@code a²}).
     */
    private static float gaussian(float a) {
        float square = a * a;
        float remainder = Math.fma(a, a, -square);
        float g = (float) Math.exp(-0.5f * square);
        return Math.fma(g, -0.5f * remainder, g);
    }

    /** {@code Φ(−a) = g · τ · P(τ)} for {@code 0 ≤ a ≤ 15}, {@code g = e^(−a²/2)}. */
    private static float normalTail(float a, float g) {
        float tau = 1f / Math.fma(a, NORMAL_TAIL_SCALE, 1f);
        float p = NORMAL_TAIL[NORMAL_TAIL.length - 1];
        for (int c = NORMAL_TAIL.length - 2; c >= 0; c--) {
            p = Math.fma(p, tau, NORMAL_TAIL[c]);
        }
        return p * tau * g;
    }

    /**
     * Exact GELU {@code x·Φ(x)} in float (PyTorch's default, the erf form). Φ comes from its
     * tail: {@code Φ(x) = t} below 0 and {@code 1 − t} above, {@code t = Φ(−|x|)}, computed
     * from {@code e^(−x²/2)} and a polynomial in {@code 1 / (1 + 0.4|x|)}; so the result keeps
     * its relative accuracy for large negative {@code x} too (within 6 ulps of the exact value
     * everywhere, 4.7 measured over [−16, 8]; PyTorch's float {@code 0.5·x·(1 + erf(x/√2))} cancels there). NaN gives NaN,
     * {@code +∞} gives {@code +∞} and {@code −∞} NaN ({@code −∞ · 0}), as PyTorch does.
     *
     * @param x the argument
     * @return {@code x·Φ(x)}
     */
    public static float gelu(float x) {
        float a = Math.min(Math.abs(x), NORMAL_TAIL_CLAMP);
        float t = normalTail(a, gaussian(a));
        float cdf = x < 0f ? t : 1f - t;
        return x * cdf;
    }

    /**
     * The derivative of {@link #gelu}: {@code Φ(x) + x·φ(x)}, from the same tail and Gaussian;
     * NaN at {@code ±∞} ({@code ∞ · 0}), as PyTorch's.
     *
     * @param x the argument
     * @return {@code Φ(x) + x·φ(x)}
     */
    public static float geluGrad(float x) {
        float a = Math.min(Math.abs(x), NORMAL_TAIL_CLAMP);
        float g = gaussian(a);
        float t = normalTail(a, g);
        float cdf = x < 0f ? t : 1f - t;
        return cdf + x * (g * INV_SQRT_2PI);
    }

    private static void pow(float p, float[] x, int xOffset, float[] out, int outOffset, int n) {
        // Exact cases first: x*x is correctly rounded, Math.pow through double is not
        // always bitwise equal to it, and gradients of squares are everywhere.
        if (p == 2f) {
            for (int i = 0; i < n; i++) {
                float v = x[xOffset + i];
                out[outOffset + i] = v * v;
            }
        } else if (p == 1f) {
            System.arraycopy(x, xOffset, out, outOffset, n);
        } else if (p == -1f) {
            for (int i = 0; i < n; i++) {
                out[outOffset + i] = 1f / x[xOffset + i];
            }
        } else {
            for (int i = 0; i < n; i++) {
                out[outOffset + i] = (float) Math.pow(x[xOffset + i], p);
            }
        }
    }

    /**
     * Logistic function evaluated without overflow for large {@code |x|}.
     *
     * @param x argument
     * @return {@code 1 / (1 + e^-x)}
     */
    public static float sigmoid(float x) {
        if (x >= 0f) {
            return (float) (1.0 / (1.0 + Math.exp(-x)));
        }
        double e = Math.exp(x);
        return (float) (e / (1.0 + e));
    }

    /**
     * {@code y[i] += alpha · x[i]} for {@code i < n}; both arrays are indexed from 0, which
     * lets C2 vectorise the loop even though it cannot tell the arrays apart.
     *
     * @param alpha scale of {@code x}
     * @param x     addend
     * @param y     updated in place
     * @param n     element count
     */
    public static void axpy(float alpha, float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) {
            y[i] += alpha * x[i];
        }
    }

    /**
     * One Adam (or AdamW) update of {@code n} parameters in one pass, in place: the same
     * operations, in the same order and with the same roundings, as the update composed from
     * this provider's {@link #axpy} and element-wise products and quotients (see
     * {@code org.adjoint.optim.AdaptiveMoments}), so the fused and the composed update give the
     * same bits; ten passes over the arrays become one.
     * <pre>
     *   p ← p·shrink                            (decoupled decay; shrink = 1: none)
     *   d ← g, or p·decay + g                   (coupled decay; decay = 0: none)
     *   m ← m·β1 + (1−β1)·d      v ← v·β2 + (1−β2)·d²
     *   p ← p + step · m / (√v / √c2 + ε)       (step = −lr / c1)
     * </pre>
     *
     * @param p               parameters, updated
     * @param g               gradient
     * @param m               first moments, updated
     * @param v               second moments, updated
     * @param n               element count
     * @param beta1           β1
     * @param beta2           β2
     * @param sqrtCorrection2 √(1 − β2^t)
     * @param epsilon         ε
     * @param step            −lr / (1 − β1^t)
     * @param decay           coupled weight decay, 0 for none
     * @param shrink          decoupled factor 1 − lr·λ, 1 for none
     */
    public static void adam(float[] p, float[] g, float[] m, float[] v, int n, float beta1, float beta2,
                            float sqrtCorrection2, float epsilon, float step, float decay, float shrink) {
        adamRange(p, g, m, v, 0, n, beta1, beta2, sqrtCorrection2, epsilon, step, decay, shrink);
    }

    /** {@link #adam} over {@code [from, to)}: the vector provider's tail. */
    static void adamRange(float[] p, float[] g, float[] m, float[] v, int from, int to, float beta1, float beta2,
                          float sqrtCorrection2, float epsilon, float step, float decay, float shrink) {
        float keep1 = 1f - beta1;
        float keep2 = 1f - beta2;
        for (int i = from; i < to; i++) {
            float param = p[i];
            if (shrink != 1f) {
                param *= shrink;
            }
            float d = g[i];
            if (decay != 0f) {
                float decayed = param * decay;
                decayed += 1f * d;
                d = decayed;
            }
            float mi = m[i] * beta1;
            mi += keep1 * d;
            float vi = v[i] * beta2;
            float square = d * d;
            vi += keep2 * square;
            float denominator = (float) Math.sqrt(vi);
            denominator = denominator / sqrtCorrection2;
            denominator = denominator + epsilon;
            float direction = mi / denominator;
            param += step * direction;
            m[i] = mi;
            v[i] = vi;
            p[i] = param;
        }
    }

    /**
     * Sets {@code n} elements to {@code value}.
     *
     * @param out       storage
     * @param outOffset first element
     * @param n         element count
     * @param value     the value
     */
    public static void fill(float[] out, int outOffset, int n, float value) {
        java.util.Arrays.fill(out, outOffset, outOffset + n, value);
    }

    /**
     * Whether {@link #fill(int, IntFunction, float)} would split arrays of {@code total}
     * elements in all across the kernel threads: a caller that must not allocate fills them one
     * by one with {@link #fill(float[], int, int, float)} when not.
     *
     * @param total the elements of all the arrays
     * @return whether they are worth more than one thread
     */
    public static boolean fillSplits(long total) {
        return total <= Integer.MAX_VALUE && Parallel.splits((int) total, MEMORY_GRAIN);
    }

    /**
     * Whether an Adam update of parameters of {@code total} elements in all would be split
     * across the kernel threads ({@link ElementWiseKernels#adam(float[][], float[][], float[][],
     * float[][], int, float, float, float, float, float, float, float)}): a caller that must not
     * allocate updates them one by one when not.
     *
     * @param total the elements of all the parameters
     * @return whether they are worth more than one thread
     */
    public static boolean adamSplits(long total) {
        return total <= Integer.MAX_VALUE && Parallel.splits((int) total, ADAM_GRAIN);
    }

    /**
     * Sets every element of {@code count} arrays to {@code value} (an optimizer's
     * {@code zeroGrad}): their elements, taken end to end, in ranges across the kernel threads
     * when {@link #fillSplits} says so, else one array after another.
     *
     * @param count  how many arrays
     * @param arrays the array at each position in {@code [0, count)}
     * @param value  the value
     */
    public static void fill(int count, IntFunction<float[]> arrays, float value) {
        long total = 0;
        for (int k = 0; k < count; k++) {
            total += arrays.apply(k).length;
        }
        if (!fillSplits(total)) {
            for (int k = 0; k < count; k++) {
                java.util.Arrays.fill(arrays.apply(k), value);
            }
            return;
        }
        Parallel.endToEnd(starts(count, k -> arrays.apply(k).length), MEMORY_GRAIN,
                (k, from, to) -> java.util.Arrays.fill(arrays.apply(k), from, to, value));
    }

    /**
     * Where each of {@code count} arrays begins when they are taken end to end, then their total:
     * {@link Parallel#endToEnd}'s {@code starts}.
     */
    static int[] starts(int count, IntUnaryOperator lengths) {
        int[] starts = new int[count + 1];
        for (int k = 0; k < count; k++) {
            long next = (long) starts[k] + lengths.applyAsInt(k);
            if (next > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("arrays taken end to end: the first " + (k + 1) + " of " + count
                        + " hold " + next + " elements, more than one pass addresses (" + Integer.MAX_VALUE + ")");
            }
            starts[k + 1] = (int) next;
        }
        return starts;
    }
}
