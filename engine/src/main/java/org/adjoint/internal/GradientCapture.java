package org.adjoint.internal;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import org.adjoint.Tensor;

/** Collects the cotangents of chosen tensors, stopping there; leaves' gradients are untouched. */
final class GradientCapture implements GradientSink {
    private final List<Tensor> inputs;
    private final Tensor[] results;
    private final Map<Node, Integer> stops = new IdentityHashMap<>();

    GradientCapture(List<Tensor> inputs) {
        this.inputs = inputs;
        this.results = new Tensor[inputs.size()];
        for (int i = 0; i < inputs.size(); i++) {
            Node producer = TensorImpl.of(inputs.get(i)).producer();
            if (producer != null) {
                stops.putIfAbsent(producer, i);
            }
        }
    }

    boolean isInput(Tensor t) {
        for (Tensor in : inputs) {
            if (in == t) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void leaf(Tensor leaf, Tensor contribution, Tensor incoming) {
        for (int i = 0; i < inputs.size(); i++) {
            if (inputs.get(i) == leaf) {
                results[i] = results[i] == null ? contribution : results[i].add(contribution);
            }
        }
    }

    @Override
    public boolean stopsAt(Node node) {
        return stops.containsKey(node);
    }

    @Override
    public void stopped(Node node, Tensor cotangent) {
        for (int i = 0; i < inputs.size(); i++) {
            if (TensorImpl.of(inputs.get(i)).producer() == node && cotangent != null) {
                results[i] = results[i] == null ? cotangent : results[i].add(cotangent);
            }
        }
    }

    List<Tensor> results() {
        return Arrays.asList(results.clone());
    }
}
