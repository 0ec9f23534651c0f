package org.adjoint.internal;

import org.adjoint.Tensor;

/** Where a reverse pass ({@link Graph}) delivers what reaches leaves, and where it stops early. */
interface GradientSink {
    void leaf(Tensor leaf, Tensor contribution, Tensor incoming);

    default boolean stopsAt(Node node) {
        return false;
    }

    default void stopped(Node node, Tensor cotangent) {
    }

    /** The pass has reversed every node: deliver what was held back. */
    default void finish() {
    }
}
