package org.adjoint.nn;

import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.internal.ops.LinearActivation;

/**
 * A fully connected layer {@code y = activation(x·W + b)} with {@code W} of shape
 * {@code [in, out]} and {@code b} of shape {@code [out]}, run as one fused primitive.
 * Inputs may have any rank of at least 1; leading axes are batch axes.
 *
 * <p>Weights start as He-scaled normal samples ({@code √(2 / in)}) for ReLU and Glorot-scaled
 * ones ({@code √(1 / in)}) otherwise, from the given seed; the bias starts at 0.
 */
public final class Linear implements Layer {

    private final Tensor weight;
    private final Tensor bias;
    private final Activation activation;

    /**
     * Creates a layer with fresh parameters.
     *
     * @param in         input features
     * @param out        output features
     * @param activation the activation
     * @param seed       seed of the initial weights
     */
    public Linear(int in, int out, Activation activation, long seed) {
        this(Tensor.randn(seed, in, out).mul((float) Math.sqrt((activation == Activation.RELU ? 2.0 : 1.0) / in))
                .detach().requiresGrad(true), Tensor.zeros(out).requiresGrad(true), activation);
    }

    /**
     * Creates a layer on given parameters (shared between layers when the same tensors are passed).
     *
     * @param weight     {@code [in, out]}
     * @param bias       {@code [out]}, or {@code null} for no bias
     * @param activation the activation
     */
    public Linear(Tensor weight, Tensor bias, Activation activation) {
        if (weight.rank() != 2 || bias != null && (bias.rank() != 1 || bias.shape()[0] != weight.shape()[1])) {
            throw new IllegalArgumentException("Linear: weight " + java.util.Arrays.toString(weight.shape())
                    + (bias == null ? "" : " and bias " + java.util.Arrays.toString(bias.shape()))
                    + " do not form a layer (expected weight [in, out] and bias [out])");
        }
        this.weight = weight;
        this.bias = bias;
        this.activation = activation;
    }

    @Override
    public Tensor apply(Tensor x) {
        int[] shape = x.shape();
        if (shape.length == 2) {
            return LinearActivation.apply(x, weight, bias, activation);
        }
        int in = shape.length == 0 ? 1 : shape[shape.length - 1];
        Tensor flat = LinearActivation.apply(x.reshape(-1, in), weight, bias, activation);
        int[] outShape = shape.length == 0 ? new int[] {weight.shape()[1]} : shape.clone();
        outShape[outShape.length - 1] = weight.shape()[1];
        return flat.reshape(outShape);
    }

    @Override
    public List<Tensor> parameters() {
        return bias == null ? List.of(weight) : List.of(weight, bias);
    }

    /**
     * The weight.
     *
     * @return {@code [in, out]}
     */
    public Tensor weight() {
        return weight;
    }

    /**
     * The bias.
     *
     * @return {@code [out]}, or {@code null}
     */
    public Tensor bias() {
        return bias;
    }
}
