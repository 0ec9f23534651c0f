package org.adjoint.nn;

import org.adjoint.Tensor;
import org.adjoint.internal.ops.PoolWindow;

/** Max pooling over NCHW images, {@link Functional#maxPool2d}, as a module. */
public final class MaxPool2d extends Stateless {

    private final int kernel;
    private final int stride;
    private final int padding;

    /**
     * Non-overlapping windows: stride equal to the kernel, no padding (PyTorch's default).
     *
     * @param kernel the window's side
     */
    public MaxPool2d(int kernel) {
        this(kernel, kernel, 0);
    }

    /**
     * Pooling with every option.
     *
     * @param kernel  the window's side
     * @param stride  step between windows
     * @param padding padding on every side, which never wins
     */
    public MaxPool2d(int kernel, int stride, int padding) {
        // Checked here, as Conv2d's and BatchNorm2d's options are, not first at apply.
        PoolWindow.checkOptions(true, kernel, stride, padding);
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
    }

    /** The window's side. */
    int kernel() {
        return kernel;
    }

    /** The step between windows. */
    int stride() {
        return stride;
    }

    /** The padding on every side. */
    int padding() {
        return padding;
    }

    @Override
    public Tensor apply(Tensor x) {
        return Functional.maxPool2d(x, kernel, stride, padding);
    }

    @Override
    public String toString() {
        return "MaxPool2d(" + kernel + (stride == kernel ? "" : ", stride " + stride)
                + (padding == 0 ? "" : ", padding " + padding) + ")";
    }
}
