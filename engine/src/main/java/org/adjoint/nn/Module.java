package org.adjoint.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Layout;
import org.adjoint.internal.Shapes;
import org.adjoint.internal.TensorImpl;

/**
 * A {@link Layer} whose parameters have names, in the style of PyTorch's {@code nn.Module}:
 * a module's own parameters are named plainly ({@code weight}, {@code bias}) and a container
 * prefixes its children's names with their position ({@code 0.weight}, {@code 2.bias}), so
 * that a model's {@link #stateDict()} maps one-to-one onto a saved file.
 *
 * <pre>{@code
 * Module model = new Sequential(new Linear(64, 128, Activation.RELU, 1), new Linear(128, 10, Activation.IDENTITY, 2));
 * SafeTensors.save(path, model.stateDict());
 * model.loadStateDict(SafeTensors.load(path));
 * }</pre>
 */
public interface Module extends Layer {

    /**
     * The trainable tensors by name, in a stable order; a tensor shared by two children is
     * listed once, under the first name that reaches it.
     *
     * @return an unmodifiable, ordered map (empty for a module without parameters)
     */
    Map<String, Tensor> namedParameters();

    /**
     * The state that is not trained but belongs in a saved model, by name, as PyTorch's
     * buffers: the running statistics of {@link BatchNorm2d}, for instance. Buffers are not in
     * {@link #parameters()} (no optimizer updates them) but are in {@link #stateDict()} and
     * loaded by {@link #loadStateDict(Map)}.
     *
     * @return an unmodifiable, ordered map (empty by default)
     */
    default Map<String, Tensor> namedBuffers() {
        return Map.of();
    }

    /**
     * The trainable tensors, in the order of {@link #namedParameters()}.
     *
     * @return the parameters
     */
    @Override
    default List<Tensor> parameters() {
        return List.copyOf(namedParameters().values());
    }

    /**
     * Switches between training and evaluation behaviour (dropout draws masks only in
     * training). Modules that behave the same in both ignore it.
     *
     * @param training {@code true} for training, {@code false} for evaluation
     * @return this module
     */
    default Module train(boolean training) {
        return this;
    }

    /**
     * Evaluation mode: {@code train(false)}.
     *
     * @return this module
     */
    default Module eval() {
        return train(false);
    }

    /** Clears the gradient of every parameter ({@link Tensor#zeroGrad()}). */
    default void zeroGrad() {
        for (Tensor p : parameters()) {
            p.zeroGrad();
        }
    }

    /**
     * The number of trainable scalars.
     *
     * @return the sum of the parameters' sizes
     */
    default long parameterCount() {
        long count = 0;
        for (Tensor p : parameters()) {
            count += p.size();
        }
        return count;
    }

    /**
     * The parameters' and then the buffers' current values by name, detached: what
     * {@code SafeTensors.save} writes. The tensors share storage with the parameters and
     * buffers, so an optimizer step or a training call changes them too; copy them
     * ({@code toFloatArray}) to keep a snapshot.
     *
     * @return an ordered map from name to value
     */
    default Map<String, Tensor> stateDict() {
        Map<String, Tensor> state = new LinkedHashMap<>();
        namedParameters().forEach((name, p) -> state.put(name, p.detach()));
        namedBuffers().forEach((name, b) -> state.put(name, b.detach()));
        return state;
    }

    /**
     * Copies values into the parameters and buffers, in place, by name. Strict, as PyTorch's
     * default: every parameter and buffer must be present with its exact shape and no other
     * name may appear.
     * Everything is checked before anything is copied, so a bad state leaves the module as
     * it was.
     *
     * @param state values by name (for instance from {@code SafeTensors.load})
     * @throws IllegalArgumentException naming every missing, unexpected or mis-shaped entry
     */
    default void loadStateDict(Map<String, Tensor> state) {
        Map<String, Tensor> own = new LinkedHashMap<>(namedParameters());
        own.putAll(namedBuffers());
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Tensor> entry : own.entrySet()) {
            Tensor value = state.get(entry.getKey());
            if (value == null) {
                problems.add("missing '" + entry.getKey() + "' " + Shapes.str(entry.getValue().shape()));
            } else if (!java.util.Arrays.equals(value.shape(), entry.getValue().shape())) {
                problems.add("'" + entry.getKey() + "' has shape " + Shapes.str(value.shape()) + ", the module needs "
                        + Shapes.str(entry.getValue().shape()));
            }
        }
        for (String name : state.keySet()) {
            if (!own.containsKey(name)) {
                problems.add("unexpected '" + name + "'");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("loadStateDict: " + String.join("; ", problems));
        }
        // Every value is moved to its parameter's backend, and a parameter that is a view given
        // storage of its own (its values unchanged), before the first copy, so that a failed
        // allocation leaves the module as it was.
        Set<Buffer> overwritten = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Tensor t : own.values()) {
            TensorImpl target = TensorImpl.of(t);
            target.makeContiguous();
            overwritten.add(target.storage());
        }
        Map<String, Tensor> sources = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> entry : own.entrySet()) {
            TensorImpl target = TensorImpl.of(entry.getValue());
            Backend backend = target.backend();
            Tensor value = state.get(entry.getKey());
            TensorImpl source = TensorImpl.of(value);
            if (source.backend() != backend) {
                value = TensorImpl.wrap(backend, backend.upload(value.toFloatArray()), value.shape());
            } else if (source.storage() == target.storage()
                    ? !source.layout().isContiguous() : overwritten.contains(source.storage())) {
                // It reads storage that a copy below overwrites (its own target's, rearranged,
                // or another entry's: two parameters swapped): read it first.
                value = Compute.copy(value);
            }
            sources.put(entry.getKey(), value);
        }
        for (Map.Entry<String, Tensor> entry : own.entrySet()) {
            TensorImpl target = TensorImpl.of(entry.getValue());
            TensorImpl source = TensorImpl.of(sources.get(entry.getKey()));
            if (source.storage() == target.storage()) {
                continue; // the parameter itself, or a reshape of it
            }
            Layout from = source.layout();
            target.backend().copyStrided(source.storage(), from.offset(), from.strides(), target.storage(), 0,
                    from.shape());
            target.version().increment();
        }
    }
}
