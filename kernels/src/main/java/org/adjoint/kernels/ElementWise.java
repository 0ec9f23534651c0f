package org.adjoint.kernels;

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
        POW
    }

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
        }
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
}
