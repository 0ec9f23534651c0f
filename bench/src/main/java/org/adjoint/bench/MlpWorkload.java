package org.adjoint.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.adjoint.Tensor;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Losses;
import org.adjoint.optim.SGD;

/**
 * The MLP step that the CPU (JMH {@code MlpStepBench}) and GPU ({@code GpuBench}) benchmarks
 * time: fused {@link Linear} layers with ReLU between them, softmax cross-entropy on integer
 * labels, and an in-place SGD update. Data and weights are drawn from one seed, on the
 * current backend.
 *
 * @param layers     the layers, input first
 * @param parameters their weights and biases, in layer order
 * @param inputs     {@code batch × widths[0]} standard normal inputs
 * @param labels     {@code batch} class indices
 */
public record MlpWorkload(List<Linear> layers, List<Tensor> parameters, Tensor inputs, int[] labels) {

    /**
     * Draws the data and the He-initialised layers.
     *
     * @param widths layer widths, input first, classes last
     * @param batch  rows of the batch
     * @param seed   the seed
     * @return the workload
     */
    public static MlpWorkload create(int[] widths, int batch, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int classes = widths[widths.length - 1];
        int[] labels = new int[batch];
        for (int row = 0; row < batch; row++) {
            labels[row] = random.nextInt(classes);
        }
        Tensor inputs = Tensor.randn(random.nextLong(), batch, widths[0]);
        List<Linear> layers = new ArrayList<>();
        List<Tensor> parameters = new ArrayList<>();
        for (int layer = 0; layer + 1 < widths.length; layer++) {
            Activation activation = layer + 2 < widths.length ? Activation.RELU : Activation.IDENTITY;
            Linear linear = new Linear(widths[layer], widths[layer + 1], activation, random.nextLong());
            layers.add(linear);
            parameters.addAll(linear.parameters());
        }
        return new MlpWorkload(List.copyOf(layers), List.copyOf(parameters), inputs, labels);
    }

    /**
     * One forward, backward and update. On a device the work is only queued: the loss is not
     * read back.
     *
     * @param optimizer an optimizer over {@link #parameters()}
     * @return the loss before the update
     */
    public Tensor step(SGD optimizer) {
        optimizer.zeroGrad();
        Tensor h = inputs;
        for (Linear layer : layers) {
            h = layer.apply(h);
        }
        Tensor loss = Losses.crossEntropy(h, labels);
        loss.backward();
        optimizer.step();
        return loss;
    }
}
