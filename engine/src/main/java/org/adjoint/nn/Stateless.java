package org.adjoint.nn;

import java.util.Map;

import org.adjoint.Tensor;

/** A module without parameters or modes: an element-wise function, a pooling, a reshape. */
abstract class Stateless implements Module {

    @Override
    public final Map<String, Tensor> namedParameters() {
        return Map.of();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "()";
    }
}
