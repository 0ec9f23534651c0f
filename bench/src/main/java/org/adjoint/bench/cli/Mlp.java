package org.adjoint.bench.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;

/**
 * A multi-layer perceptron {@code inputs -> hidden -> hidden -> outputs} whose parameters are
 * leaf tensors that require a gradient. Instances are immutable, like tensors: an update step
 * returns a new network.
 */
public final class Mlp {

    /** The non-linearity after each hidden layer. */
    public enum Activation {
        /** Hyperbolic tangent; weights start with variance {@code 1 / fanIn} (Xavier). */
        TANH,
        /** Rectified linear unit; weights start with variance {@code 2 / fanIn} (He). */
        RELU
    }

    private final List<Tensor> parameters;
    private final Activation activation;

    private Mlp(List<Tensor> parameters, Activation activation) {
        this.parameters = List.copyOf(parameters);
        this.activation = activation;
    }

    /**
     * A network with random weights and zero biases.
     *
     * @param inputs     features per row
     * @param hidden     width of both hidden layers
     * @param outputs    logits per row
     * @param activation the hidden non-linearity
     * @param seed       seed of the initial weights
     * @return the network, on the current backend
     */
    public static Mlp initialize(int inputs, int hidden, int outputs, Activation activation, long seed) {
        SplittableRandom seeds = new SplittableRandom(seed);
        int[] widths = {inputs, hidden, hidden, outputs};
        List<Tensor> parameters = new ArrayList<>();
        try (var _ = GradMode.noGrad()) {
            for (int layer = 0; layer + 1 < widths.length; layer++) {
                int fanIn = widths[layer];
                float gain = activation == Activation.RELU && layer + 2 < widths.length ? 2f : 1f;
                float scale = (float) Math.sqrt(gain / fanIn);
                parameters.add(Tensor.randn(seeds.nextLong(), fanIn, widths[layer + 1]).mul(scale).requiresGrad(true));
                parameters.add(Tensor.zeros(widths[layer + 1]).requiresGrad(true));
            }
        }
        return new Mlp(parameters, activation);
    }

    /**
     * The logits of a batch.
     *
     * @param x [rows, inputs]
     * @return [rows, outputs]
     */
    public Tensor logits(Tensor x) {
        Tensor h = x;
        int layers = parameters.size() / 2;
        for (int layer = 0; layer < layers; layer++) {
            h = h.matmul(parameters.get(2 * layer)).add(parameters.get(2 * layer + 1));
            if (layer + 1 < layers) {
                h = activation == Activation.TANH ? h.tanh() : h.relu();
            }
        }
        return h;
    }

    /**
     * One step of plain stochastic gradient descent, {@code p - learningRate * grad(p)}, from
     * the gradients left by the last {@code backward()}. The update runs without recording and
     * yields fresh leaves, so no history survives from one step to the next.
     *
     * @param learningRate the step size
     * @return the updated network; a parameter without a gradient is kept as it is
     */
    public Mlp sgdStep(float learningRate) {
        List<Tensor> updated = new ArrayList<>(parameters.size());
        try (var _ = GradMode.noGrad()) {
            for (Tensor p : parameters) {
                Tensor grad = p.grad();
                updated.add(grad == null ? p : p.sub(grad.mul(learningRate)).requiresGrad(true));
            }
        }
        return new Mlp(updated, activation);
    }

    /**
     * The parameters: weight and bias of each layer, first layer first.
     *
     * @return an unmodifiable list
     */
    public List<Tensor> parameters() {
        return parameters;
    }

    /**
     * The number of trainable scalars.
     *
     * @return the sum of the parameters' sizes
     */
    public long parameterCount() {
        return parameters.stream().mapToLong(Tensor::size).sum();
    }
}
