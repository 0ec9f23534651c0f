package org.adjoint.optim;

import java.util.ArrayList;
import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Shapes;
import org.adjoint.internal.TensorAccess;

/**
 * Stochastic gradient descent, {@code p ← p − lr · v} with {@code v = g} (plain) or
 * {@code v ← μ v + g} (momentum), updating the parameters' storage in place with backend
 * kernels: a step allocates nothing.
 *
 * <p>In-place updates are the one place where Adjoint changes a tensor's values. Each update
 * bumps the parameter's version, so a gradient computed through a graph recorded before the
 * step fails with a clear error instead of reading the new values.
 */
public final class SGD {

    private static final TensorAccess ACCESS = TensorAccess.get();

    private final List<Tensor> parameters;
    private final float learningRate;
    private final float momentum;
    private final List<Tensor> velocities = new ArrayList<>();

    /**
     * Plain SGD.
     *
     * @param parameters   leaves that require a gradient
     * @param learningRate the step size
     */
    public SGD(List<Tensor> parameters, float learningRate) {
        this(parameters, learningRate, 0f);
    }

    /**
     * SGD with momentum.
     *
     * @param parameters   leaves that require a gradient
     * @param learningRate the step size
     * @param momentum     the velocity's decay μ in {@code [0, 1)}
     */
    public SGD(List<Tensor> parameters, float learningRate, float momentum) {
        if (!(learningRate > 0f) || !(momentum >= 0f && momentum < 1f)) {
            throw new IllegalArgumentException("SGD: learning rate must be > 0 and momentum in [0, 1), got "
                    + learningRate + " and " + momentum);
        }
        for (int i = 0; i < parameters.size(); i++) {
            Tensor p = parameters.get(i);
            if (!p.isLeaf() || !p.requiresGrad()) {
                throw new IllegalArgumentException("SGD: parameter " + i + " of shape " + Shapes.str(p.shape())
                        + " must be a leaf that requires a gradient");
            }
        }
        this.parameters = List.copyOf(parameters);
        this.learningRate = learningRate;
        this.momentum = momentum;
    }

    /** Updates every parameter that has a gradient, in place. */
    public void step() {
        for (int i = 0; i < parameters.size(); i++) {
            Tensor p = parameters.get(i);
            Tensor grad = p.grad();
            if (grad == null) {
                continue;
            }
            Backend backend = Compute.backend("SGD.step", p, grad);
            Buffer direction = ACCESS.buffer(grad);
            if (momentum > 0f) {
                while (velocities.size() <= i) {
                    velocities.add(null);
                }
                Tensor v = velocities.get(i);
                if (v == null) {
                    v = Compute.copy(grad);
                    velocities.set(i, v);
                } else {
                    int[] shape = p.shape();
                    int[] strides = Shapes.contiguousStrides(shape);
                    Buffer scale = backend.upload(new float[] {momentum});
                    backend.binary(BinaryOp.MUL, ACCESS.buffer(v), strides, scale, new int[shape.length],
                            ACCESS.buffer(v), shape);
                    backend.axpy(1f, direction, ACCESS.buffer(v));
                }
                direction = ACCESS.buffer(v);
            }
            backend.axpy(-learningRate, direction, ACCESS.buffer(p));
            ACCESS.version(p).increment();
        }
    }

    /**
     * Sets every parameter's gradient to zero in place, keeping its buffer, so that the next
     * backward pass accumulates into it without allocating (PyTorch's
     * {@code zero_grad(set_to_none=False)}). A gradient tensor obtained earlier sees the zeros.
     */
    public void zeroGrad() {
        for (Tensor p : parameters) {
            Tensor grad = p.grad();
            if (grad != null) {
                ACCESS.backend(grad).fill(ACCESS.buffer(grad), 0f);
                ACCESS.version(grad).increment();
            }
        }
    }

    /**
     * The parameters this optimizer updates.
     *
     * @return an unmodifiable list
     */
    public List<Tensor> parameters() {
        return parameters;
    }
}
