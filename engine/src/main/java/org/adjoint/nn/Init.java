package org.adjoint.nn;

import org.adjoint.Tensor;

/**
 * Seeded weight initializations for a {@code [fanIn, fanOut]} weight, as in PyTorch's
 * {@code nn.init} with its default arguments. Each returns a fresh leaf that requires a
 * gradient; the same seed gives the same values on every backend.
 */
public enum Init {
    /** Kaiming (He) normal for ReLU: {@code N(0, 2 / fanIn)}. */
    KAIMING_NORMAL,
    /** Kaiming (He) uniform for ReLU: {@code U(−b, b)} with {@code b = √(6 / fanIn)}. */
    KAIMING_UNIFORM,
    /** Xavier (Glorot) normal: {@code N(0, 2 / (fanIn + fanOut))}. */
    XAVIER_NORMAL,
    /** Xavier (Glorot) uniform: {@code U(−b, b)} with {@code b = √(6 / (fanIn + fanOut))}. */
    XAVIER_UNIFORM;

    /**
     * A weight of shape {@code [fanIn, fanOut]}.
     *
     * @param seed   the random seed
     * @param fanIn  input features
     * @param fanOut output features
     * @return a leaf that requires a gradient
     */
    public Tensor weight(long seed, int fanIn, int fanOut) {
        if (fanIn <= 0 || fanOut <= 0) {
            throw new IllegalArgumentException("Init." + name() + ": fan-in and fan-out must be positive, got "
                    + fanIn + " and " + fanOut);
        }
        double variance = switch (this) {
            case KAIMING_NORMAL, KAIMING_UNIFORM -> 2.0 / fanIn;
            case XAVIER_NORMAL, XAVIER_UNIFORM -> 2.0 / (fanIn + fanOut);
        };
        Tensor values = switch (this) {
            case KAIMING_NORMAL, XAVIER_NORMAL -> Tensor.randn(seed, fanIn, fanOut).mul((float) Math.sqrt(variance));
            // U(−b, b) has variance b²/3, so b = √(3·variance).
            case KAIMING_UNIFORM, XAVIER_UNIFORM -> Tensor.rand(seed, fanIn, fanOut).mul(2f).sub(1f)
                    .mul((float) Math.sqrt(3 * variance));
        };
        return values.detach().requiresGrad(true);
    }

    /**
     * The usual choice for a layer followed by an activation: Kaiming for ReLU, Xavier
     * otherwise.
     *
     * @param activation the activation after the layer
     * @return {@link #KAIMING_NORMAL} or {@link #XAVIER_NORMAL}
     */
    public static Init defaultFor(Activation activation) {
        return activation == Activation.RELU ? KAIMING_NORMAL : XAVIER_NORMAL;
    }
}
