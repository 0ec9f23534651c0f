package org.adjoint.nn;

import org.adjoint.Tensor;

/**
 * The Gaussian error linear unit in its tanh form (PyTorch's {@code GELU(approximate="tanh")},
 * as in GPT-2 and BERT): {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}. It is within
 * 1e-3 of the exact {@code x·Φ(x)} everywhere and is composed from primitives, so its
 * gradient needs no rule of its own.
 */
public final class GELU extends Stateless {

    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2 / Math.PI);

    /** Creates the module. */
    public GELU() {
    }

    @Override
    public Tensor apply(Tensor x) {
        Tensor inner = x.add(x.pow(3f).mul(0.044715f)).mul(SQRT_2_OVER_PI);
        return x.mul(inner.tanh().add(1f)).mul(0.5f);
    }
}
