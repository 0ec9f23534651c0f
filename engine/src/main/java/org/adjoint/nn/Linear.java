package org.adjoint.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.adjoint.Tensor;
import org.adjoint.internal.ops.LinearActivation;

/**
 * A fully connected layer {@code y = activation(x·W + b)} with {@code W} of shape
 * {@code [in, out]} and {@code b} of shape {@code [out]}, run as one fused primitive.
 * Inputs may have any rank of at least 1; leading axes are batch axes.
 *
 * <p>Weights start from {@link Init#defaultFor(Activation)} (Kaiming normal for ReLU, Xavier
 * normal otherwise) or a given {@link Init}, from the given seed; the bias starts at 0. The
 * parameters are named {@code weight} and {@code bias}. Unlike PyTorch's {@code nn.Linear},
 * whose weight is {@code [out, in]}, the weight here is {@code [in, out]}, so that the
 * forward product needs no transpose; transpose it when exchanging files with PyTorch code.
 */
public final class Linear implements Module {

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
        this(in, out, activation, Init.defaultFor(activation), seed);
    }

    /**
     * Creates a layer with fresh parameters from a chosen initialization.
     *
     * @param in         input features
     * @param out        output features
     * @param activation the activation
     * @param init       how to draw the weight
     * @param seed       seed of the initial weights
     */
    public Linear(int in, int out, Activation activation, Init init, long seed) {
        this(init.weight(seed, in, out), Tensor.zeros(out).requiresGrad(true), activation);
    }

    /**
     * A layer without activation ({@link Activation#IDENTITY}), Xavier-initialized: the
     * building block to follow with {@link ReLU}, {@link Tanh}, {@link Sigmoid} or {@link GELU}.
     *
     * @param in   input features
     * @param out  output features
     * @param seed seed of the initial weights
     */
    public Linear(int in, int out, long seed) {
        this(in, out, Activation.IDENTITY, seed);
    }

    /**
     * Creates a layer on given parameters (shared between layers when the same tensors are passed).
     *
     * @param weight     {@code [in, out]}
     * @param bias       {@code [out]}, or {@code null} for no bias
     * @param activation the activation
     */
    public Linear(Tensor weight, Tensor bias, Activation activation) {
        if (activation == null) {
            throw new IllegalArgumentException("Linear: the activation must not be null (Activation.IDENTITY for none)");
        }
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
        if (in != weight.shape()[0]) {
            throw new IllegalArgumentException("linear: cannot apply weight " + java.util.Arrays.toString(weight.shape())
                    + " to input " + java.util.Arrays.toString(shape) + " (its last axis must be "
                    + weight.shape()[0] + ")");
        }
        Tensor flat = LinearActivation.apply(x.reshape(-1, in), weight, bias, activation);
        int[] outShape = shape.length == 0 ? new int[] {weight.shape()[1]} : shape.clone();
        outShape[outShape.length - 1] = weight.shape()[1];
        return flat.reshape(outShape);
    }

    @Override
    public Map<String, Tensor> namedParameters() {
        Map<String, Tensor> named = new LinkedHashMap<>();
        named.put("weight", weight);
        if (bias != null) {
            named.put("bias", bias);
        }
        return java.util.Collections.unmodifiableMap(named);
    }

    @Override
    public String toString() {
        return "Linear(" + weight.shape()[0] + ", " + weight.shape()[1] + (bias == null ? ", no bias" : "")
                + (activation == Activation.IDENTITY ? "" : ", " + activation) + ")";
    }

    /**
     * The activation applied after the product.
     *
     * @return the activation
     */
    public Activation activation() {
        return activation;
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
