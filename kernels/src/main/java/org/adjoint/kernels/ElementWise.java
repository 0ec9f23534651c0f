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
