package org.adjoint.nn;

import org.adjoint.Tensor;
import org.adjoint.internal.ops.PoolWindow;

/** Average pooling over NCHW images, {@link Functional#avgPool2d}, as a module. */
public final class AvgPool2d extends Stateless {

    private final int kernel;
    private final int stride;
    private final int padding;

    /**
     * Non-overlapping windows: stride equal to the kernel, no padding (PyTorch's default).
     *
     * @param kernel the window's side
     */
    public AvgPool2d(int kernel) {
        this(kernel, kernel, 0);
    }

    /**
     * Pooling with every option.
     *
     * @param kernel  the window's side
     * @param stride  step between windows
     * @param padding zeros added on every side, counted in the average
     */
    public AvgPool2d(int kernel, int stride, int padding) {
        // Checked here, as Conv2d's and BatchNorm2d's options are, not first at apply.
        PoolWindow.checkOptions(false, kernel, stride, padding);
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
    }

    @Override
    public Tensor apply(Tensor x) {
        return Functional.avgPool2d(x, kernel, stride, padding);
    }

    @Override
    public String toString() {
        return "AvgPool2d(" + kernel + (stride == kernel ? "" : ", stride " + stride)
                + (padding == 0 ? "" : ", padding " + padding) + ")";
    }
}
