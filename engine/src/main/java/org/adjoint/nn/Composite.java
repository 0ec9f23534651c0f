package org.adjoint.nn;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.adjoint.Tensor;

/**
 * A module made of named children, for models that are not a chain: subclass it as PyTorch
 * users subclass {@code nn.Module}, register each child once in the constructor, and write
 * {@link #apply} with them. Parameter names are the children's prefixed with theirs
 * ({@code conv1.weight}, {@code bn1.bias}), so state dicts match PyTorch's for the same
 * attribute names; {@link #train(boolean)} reaches every child.
 *
 * <pre>{@code
 * final class Residual extends Composite {
 *     private final Conv2d conv1 = child("conv1", new Conv2d(64, 64, 3, 1, 1));
 *     private final Conv2d conv2 = child("conv2", new Conv2d(64, 64, 3, 1, 2));
 *
 *     public Tensor apply(Tensor x) {
 *         return x.add(conv2.apply(conv1.apply(x).relu())).relu();   // y = relu(x + f(x))
 *     }
 * }
 * }</pre>
 */
public abstract class Composite implements Module {

    private final Map<String, Module> children = new LinkedHashMap<>();

    /** Creates a module without children; the subclass registers them. */
    protected Composite() {
    }

    /**
     * Registers a child under a name, in order.
     *
     * @param name   its name, without dots, unique in this module
     * @param module the child
     * @param <M>    its type
     * @return {@code module}, to assign to a field
     * @throws IllegalArgumentException when the name is empty, has a dot, or is taken
     */
    protected final <M extends Module> M child(String name, M module) {
        if (name == null || name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": a child's name must be non-empty and "
                    + "without dots, got '" + name + "'");
        }
        if (module == null) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": child '" + name + "' is null");
        }
        if (children.putIfAbsent(name, module) != null) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": a child named '" + name
                    + "' is registered already");
        }
        return module;
    }

    /**
     * The children, in the order they were registered.
     *
     * @return an unmodifiable map from name to module
     */
    public final Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    @Override
    public Map<String, Tensor> namedParameters() {
        return prefixed(false);
    }

    @Override
    public Map<String, Tensor> namedBuffers() {
        return prefixed(true);
    }

    /** The children's parameters or buffers under {@code child.name}, each tensor once. */
    private Map<String, Tensor> prefixed(boolean buffers) {
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Map<String, Tensor> all = new LinkedHashMap<>();
        children.forEach((name, child) -> (buffers ? child.namedBuffers() : child.namedParameters()).forEach((key, t) -> {
            if (seen.add(t)) {
                all.put(name + "." + key, t);
            }
        }));
        return Collections.unmodifiableMap(all);
    }

    @Override
    public Composite train(boolean training) {
        for (Module child : children.values()) {
            child.train(training);
        }
        return this;
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder(getClass().getSimpleName()).append('(');
        children.forEach((name, child) -> text.append(text.charAt(text.length() - 1) == '(' ? "" : ", ")
                .append(name).append('=').append(child));
        return text.append(')').toString();
    }
}
