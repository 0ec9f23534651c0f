package org.adjoint.nn;

import org.adjoint.Tensor;

/**
 * The Gaussian error linear unit. {@code new GELU()} is the exact function {@code x·Φ(x)}
 * ({@link Tensor#gelu()}, one element-wise kernel), as PyTorch's {@code nn.GELU()};
 * {@link #tanh()} is the tanh form {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}, as
 * PyTorch's {@code nn.GELU(approximate="tanh")} (GPT-2, BERT), within 1e-3 of the exact one
 * and composed from primitives.
 */
public final class GELU extends Stateless {

    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2 / Math.PI);

    private final boolean tanhForm;

    /** Creates the exact GELU, {@code x·Φ(x)}. */
    public GELU() {
        this(false);
    }

    private GELU(boolean tanhForm) {
        this.tanhForm = tanhForm;
    }

    /**
     * The tanh approximation, PyTorch's {@code nn.GELU(approximate="tanh")}.
     *
     * @return a GELU module in the tanh form
     */
    public static GELU tanh() {
        return new GELU(true);
    }

    /**
     * Whether this module computes the tanh form rather than the exact function.
     *
     * @return true for the tanh form
     */
    public boolean isTanhForm() {
        return tanhForm;
    }

    @Override
    public Tensor apply(Tensor x) {
        if (!tanhForm) {
            return x.gelu();
        }
        Tensor inner = x.add(x.pow(3f).mul(0.044715f)).mul(SQRT_2_OVER_PI);
        return x.mul(inner.tanh().add(1f)).mul(0.5f);
    }

    @Override
    public String toString() {
        return tanhForm ? "GELU(approximate=tanh)" : "GELU()";
    }
}
