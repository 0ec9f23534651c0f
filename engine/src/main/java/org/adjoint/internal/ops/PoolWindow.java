package org.adjoint.internal.ops;

import org.adjoint.backend.ConvGeometry;
import org.adjoint.backend.PoolingOps;
import org.adjoint.internal.Shapes;

/**
 * The attributes of a 2-D pooling and of the primitives its rules are made of: which pooling,
 * how many images, and the window over one image ({@link ConvGeometry} with the input's
 * channels and dilation 1). The computations are the backend's ({@link PoolingOps}); max
 * pooling's residual is the argmax, the window position of each output's first maximal tap,
 * in the output's shape.
 *
 * @param max      max pooling (an argmax input in the transpose and gather) rather than average pooling
 * @param images   images in the batch, {@code N}
 * @param geometry the window over one image
 */
public record PoolWindow(boolean max, int images, ConvGeometry geometry) {

    /**
     * System property that bounds the floats of columns per tile of the composed pooling
     * ({@link PoolingOps#TILE_PROPERTY}); tests lower it to cover several tiles with small inputs.
     */
    public static final String TILE_PROPERTY = PoolingOps.TILE_PROPERTY;

    /**
     * Checks a pooling's options alone, as its module's constructor does (the input's size is
     * checked when it comes).
     *
     * @param max     max pooling, else average
     * @param kernel  the window's side
     * @param stride  the step between windows
     * @param padding the padding on every side
     * @throws IllegalArgumentException naming the pooling and the options
     */
    public static void checkOptions(boolean max, int kernel, int stride, int padding) {
        checkOptions(name(max), kernel, stride, padding, " (kernel " + kernel + ", stride " + stride + ", padding "
                + padding + ")");
    }

    private static void checkOptions(String op, int kernel, int stride, int padding, String where) {
        if (kernel < 1) {
            throw new IllegalArgumentException(op + ": the kernel must be at least 1" + where);
        }
        if (stride < 1) {
            throw new IllegalArgumentException(op + ": the stride must be at least 1" + where);
        }
        if (padding < 0) {
            throw new IllegalArgumentException(op + ": the padding must not be negative" + where);
        }
        // PyTorch's rule; it also keeps every window on at least one element of the image, so a max is never -∞.
        if (padding > kernel / 2) {
            throw new IllegalArgumentException(op + ": the padding must be at most half the kernel (" + kernel / 2
                    + ")" + where);
        }
    }

    /**
     * Checks a pooling's arguments, as {@code torch.nn.functional} does, and describes its window.
     *
     * @param max     max pooling rather than average pooling
     * @param shape   the input's shape
     * @param kernel  window side
     * @param stride  step between windows
     * @param padding rows and columns added on every side
     * @return the window
     * @throws IllegalArgumentException naming the operation and the values when the input is
     *                                  not {@code [N, C, H, W]}, a size is out of range, the
     *                                  padding is more than half the kernel or the window does
     *                                  not fit the padded input
     */
    public static PoolWindow of(boolean max, int[] shape, int kernel, int stride, int padding) {
        String op = name(max);
        if (shape.length != 4) {
            throw new IllegalArgumentException(op + ": the input must be [N, C, H, W] (rank 4), got shape "
                    + Shapes.str(shape));
        }
        String where = " (input " + Shapes.str(shape) + ", kernel " + kernel + ", stride " + stride + ", padding "
                + padding + ")";
        checkOptions(op, kernel, stride, padding, where);
        long paddedHeight = shape[2] + 2L * padding;
        long paddedWidth = shape[3] + 2L * padding;
        if (kernel > paddedHeight || kernel > paddedWidth) {
            throw new IllegalArgumentException(op + ": the window " + kernel + "x" + kernel
                    + " is larger than the padded input " + paddedHeight + "x" + paddedWidth + where);
        }
        return new PoolWindow(max, shape[0], new ConvGeometry(shape[1], shape[2], shape[3], kernel, kernel, stride,
                padding, 1));
    }

    private static String name(boolean max) {
        return max ? "maxPool2d" : "avgPool2d";
    }

    /**
     * The operation's public name.
     *
     * @return {@code maxPool2d} or {@code avgPool2d}
     */
    public String name() {
        return name(max);
    }

    /**
     * The input's shape.
     *
     * @return {@code [N, C, H, W]}
     */
    public int[] inputShape() {
        return new int[] {images, geometry.channels(), geometry.height(), geometry.width()};
    }

    /**
     * The output's shape.
     *
     * @return {@code [N, C, H', W']}
     */
    public int[] outputShape() {
        return new int[] {images, geometry.channels(), geometry.outHeight(), geometry.outWidth()};
    }

    /**
     * Throws unless a tensor handed to one of the pooling primitives has the expected shape.
     *
     * @param what     the role of the tensor, for the message
     * @param actual   its shape
     * @param expected the shape it must have
     */
    void requireShape(String what, int[] actual, int[] expected) {
        if (!java.util.Arrays.equals(actual, expected)) {
            throw new IllegalArgumentException(name() + ": " + what + " has shape " + Shapes.str(actual) + ", expected "
                    + Shapes.str(expected));
        }
    }
}
