package org.adjoint.nn;

import org.adjoint.Tensor;

/** GPT-2's initial values: weights from a normal distribution of a given deviation. */
final class GptInit {

    private GptInit() {
    }

    /**
     * A fresh leaf from {@code N(0, std²)}.
     *
     * @param seed  seed of the values
     * @param std   standard deviation
     * @param shape its shape
     * @return a leaf that requires a gradient
     */
    static Tensor normal(long seed, float std, int... shape) {
        return Tensor.randn(seed, shape).mul(std).detach().requiresGrad(true);
    }
}
