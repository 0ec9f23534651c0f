package org.adjoint.backend;

/** The activations the fused linear tail takes. */
final class LinearTail {

    private LinearTail() {
    }

    /** Refuses a unary function whose derivative is not written in its output. */
    static void check(String operation, UnaryOp activation) {
        if (activation != null && activation != UnaryOp.RELU && activation != UnaryOp.TANH
                && activation != UnaryOp.SIGMOID) {
            throw new IllegalArgumentException(operation + ": " + activation + " is not a fused activation "
                    + "(RELU, TANH, SIGMOID, or null for none)");
        }
    }
}
