package org.adjoint.nn;

import java.util.ArrayList;
import java.util.List;
import org.adjoint.Tensor;

/**
 * A {@link Conv2d} with a ReLU and the {@link MaxPool2d} after it, run as one layer
 * ({@link Conv2d#applyPooled}): what {@link Sequential} runs in place of the pair when the
 * pooling windows do not overlap.
 *
 * @param convolution the convolution layer, whose activation is a ReLU
 * @param pool        the pooling after it
 */
record ConvPool(Conv2d convolution, MaxPool2d pool) implements Layer {

    /**
     * The layers to run for a chain: each ReLU convolution directly followed by a max pooling
     * whose stride is at least its window replaced by the pair, the others as they are.
     *
     * @param layers the chain's layers
     * @return an unmodifiable list, {@code layers} itself when nothing is fused
     */
    static List<Layer> fuse(List<Layer> layers) {
        List<Layer> runs = new ArrayList<>(layers.size());
        for (int i = 0; i < layers.size(); i++) {
            if (i + 1 < layers.size() && layers.get(i) instanceof Conv2d convolution
                    && convolution.activation() == Activation.RELU && layers.get(i + 1) instanceof MaxPool2d pool
                    && pool.stride() >= pool.kernel()) {
                runs.add(new ConvPool(convolution, pool));
                i++;
            } else {
                runs.add(layers.get(i));
            }
        }
        return runs.size() == layers.size() ? layers : List.copyOf(runs);
    }

    @Override
    public Tensor apply(Tensor x) {
        return convolution.applyPooled(x, pool.kernel(), pool.stride(), pool.padding());
    }

    @Override
    public List<Tensor> parameters() {
        return convolution.parameters();
    }

    @Override
    public String toString() {
        return convolution + " + " + pool;
    }
}
