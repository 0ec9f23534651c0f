package org.adjoint.conformance.programs;

import java.util.Arrays;

/**
 * Shape rules written out independently of the engine's, so that the generator only builds
 * calls the API must accept (an engine that rejects one fails the run).
 */
final class ShapeRules {

    private ShapeRules() {
    }

    static long size(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /** NumPy broadcasting: the result shape, or {@code null} when the shapes do not broadcast. */
    static int[] broadcast(int[] x, int[] y) {
        int rank = Math.max(x.length, y.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int dx = i < rank - x.length ? 1 : x[i - (rank - x.length)];
            int dy = i < rank - y.length ? 1 : y[i - (rank - y.length)];
            if (dx != dy && dx != 1 && dy != 1) {
                return null;
            }
            out[i] = dx == 1 ? dy : dx;
        }
        return out;
    }

    /** NumPy {@code matmul}: the result shape, or {@code null} when the operands do not multiply. */
    static int[] matmul(int[] x, int[] y) {
        if (x.length == 0 || y.length == 0) {
            return null;
        }
        if (x.length == 1 && y.length == 1) {
            return x[0] == y[0] ? new int[0] : null;
        }
        if (x.length == 1) {
            if (x[0] != y[y.length - 2]) {
                return null;
            }
            int[] out = Arrays.copyOf(y, y.length - 1);
            out[out.length - 1] = y[y.length - 1];
            return out;
        }
        if (y.length == 1) {
            return x[x.length - 1] == y[0] ? Arrays.copyOf(x, x.length - 1) : null;
        }
        if (x[x.length - 1] != y[y.length - 2]) {
            return null;
        }
        int[] batch = broadcast(Arrays.copyOf(x, x.length - 2), Arrays.copyOf(y, y.length - 2));
        if (batch == null) {
            return null;
        }
        int[] out = Arrays.copyOf(batch, batch.length + 2);
        out[batch.length] = x[x.length - 2];
        out[batch.length + 1] = y[y.length - 1];
        return out;
    }

    /** The last two axes swapped. */
    static int[] transposed(int[] shape) {
        int[] out = shape.clone();
        out[out.length - 1] = shape[shape.length - 2];
        out[out.length - 2] = shape[shape.length - 1];
        return out;
    }
}
