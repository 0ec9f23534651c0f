package org.adjoint.nn;

import java.util.Arrays;

import org.adjoint.Tensor;

/**
 * Joins every axis after the first into one, {@code [N, C, H, W] → [N, C·H·W]}: between the
 * convolutional part of a network and its fully connected head (PyTorch's {@code nn.Flatten()}).
 */
public final class Flatten extends Stateless {

    /** Creates the module. */
    public Flatten() {
    }

    @Override
    public Tensor apply(Tensor x) {
        if (x.rank() < 1) {
            throw new IllegalArgumentException("Flatten: needs rank at least 1, got a scalar");
        }
        int[] shape = x.shape();
        long rest = 1;
        for (int i = 1; i < shape.length; i++) {
            rest *= shape[i];
            if (rest > Integer.MAX_VALUE) {
                // Only a tensor with no elements (a 0 on the first axis) gets here.
                throw new IllegalArgumentException("Flatten: the axes after the first of " + Arrays.toString(shape)
                        + " hold more than " + Integer.MAX_VALUE + " elements, more than one axis can");
            }
        }
        return x.reshape(shape[0], (int) rest);
    }
}
