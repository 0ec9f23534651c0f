package org.adjoint.nn;

import java.util.Objects;

import org.adjoint.Tensor;
import org.adjoint.internal.ops.AvgPool2d;
import org.adjoint.internal.ops.MaxPool2d;

/**
 * Stateless operations of convolutional nets and transformers with the semantics of
 * {@code torch.nn.functional}; images are NCHW ({@code [N, C, H, W]}). Each operation is
 * differentiable in both modes and runs on every backend.
 */
public final class Functional {

    private Functional() {
    }

    /**
     * 2-D max pooling with a square {@code kernel × kernel} window, as PyTorch's
     * {@code max_pool2d(input, kernel, stride, padding)}: each output element is the maximum of
     * its window; padding never wins (it reads −∞, and a window always holds at least one
     * element of the image). The gradient goes to the first maximal element of each window, in
     * row-major order within the window, and adds up where windows overlap.
     *
     * @param input   images {@code [N, C, H, W]}
     * @param kernel  window side, at least 1
     * @param stride  step between windows, at least 1
     * @param padding rows and columns added on every side, from 0 to {@code kernel / 2}
     * @return {@code [N, C, H', W']} with {@code H' = (H + 2·padding − kernel) / stride + 1}, and {@code W'} alike
     * @throws IllegalArgumentException when {@code input} is not of rank 4, a size is out of
     *                                  range, or the window is larger than the padded input
     */
    public static Tensor maxPool2d(Tensor input, int kernel, int stride, int padding) {
        return MaxPool2d.apply(Objects.requireNonNull(input, "maxPool2d: input"), kernel, stride, padding);
    }

    /**
     * 2-D average pooling with a square {@code kernel × kernel} window, as PyTorch's
     * {@code avg_pool2d(input, kernel, stride, padding)} with {@code count_include_pad=True}:
     * padded zeros count, so every window's sum is divided by {@code kernel²}.
     *
     * @param input   images {@code [N, C, H, W]}
     * @param kernel  window side, at least 1
     * @param stride  step between windows, at least 1
     * @param padding rows and columns of zeros added on every side, from 0 to {@code kernel / 2}
     * @return {@code [N, C, H', W']} with {@code H' = (H + 2·padding − kernel) / stride + 1}, and {@code W'} alike
     * @throws IllegalArgumentException when {@code input} is not of rank 4, a size is out of
     *                                  range, or the window is larger than the padded input
     */
    public static Tensor avgPool2d(Tensor input, int kernel, int stride, int padding) {
        return AvgPool2d.apply(Objects.requireNonNull(input, "avgPool2d: input"), kernel, stride, padding);
    }
}
