package org.adjoint;

import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Node;
import org.adjoint.internal.TensorAccess;
import org.adjoint.internal.Version;

/** The engine's access to {@link Tensor}'s fields, installed once by {@code Tensor}. */
final class TensorInternals implements TensorAccess {
    @Override
    public Tensor wrap(Backend backend, Buffer buffer, int[] shape) {
        return new Tensor(backend, buffer, shape, new Version());
    }

    @Override
    public Tensor view(Tensor base, int[] shape) {
        return new Tensor(base.backend, base.buffer, shape, base.version);
    }

    @Override
    public Version version(Tensor tensor) {
        return tensor.version;
    }

    @Override
    public Tensor tangent(Tensor tensor) {
        return tensor.tangent;
    }

    @Override
    public void setTangent(Tensor tensor, Tensor newTangent) {
        tensor.tangent = newTangent;
    }

    @Override
    public void setGrad(Tensor leaf, Tensor newGrad) {
        leaf.grad = newGrad;
    }

    @Override
    public Buffer buffer(Tensor tensor) {
        return tensor.buffer;
    }

    @Override
    public Backend backend(Tensor tensor) {
        return tensor.backend;
    }

    @Override
    public int[] shapeView(Tensor tensor) {
        return tensor.shape;
    }

    @Override
    public Node producer(Tensor tensor) {
        return tensor.producer;
    }

    @Override
    public void attach(Tensor tensor, Node node) {
        tensor.producer = node;
        tensor.requiresGrad = true;
    }
}
