package org.adjoint.backend;

/**
 * 2-D max and average pooling over NCHW images, forward and the linear maps their derivatives
 * are made of. A window is a {@link ConvGeometry} with dilation 1 in practice (the defaults
 * take any); {@code images} images of {@code geometry.channels()} planes each.
 *
 * <p>Max pooling keeps, per output element, the position in its window of the first maximal
 * tap (tap row, then tap column, from 0; padding reads −∞ and a NaN wins and stays), as
 * float32 whole numbers in the output's layout {@code [N, C, H', W']}: the derivatives pick
 * ({@link #maxPoolGather}) and spread ({@link #maxPoolScatter}) through it. Average pooling
 * counts padded zeros ({@code count_include_pad}): every window is divided by its tap count.
 *
 * <p>The defaults unfold the images into columns ({@link #im2col}), reduce each window with the
 * core ({@code max}, a batched GEMM, {@code gather}, {@code scatterAdd}) and fold back with
 * {@link #col2im}, in tiles of images whose columns stay within {@value #DEFAULT_TILE_FLOATS}
 * floats (or what {@value #TILE_PROPERTY} says); a backend overrides them with direct kernels.
 */
public interface PoolingOps extends ConvolutionOps {

    /**
     * System property that bounds the floats of columns per tile in the defaults; tests lower it
     * to cover several tiles with small inputs. A tile holds at least one image.
     */
    String TILE_PROPERTY = "adjoint.pool.tileFloats";

    /** Floats of columns per tile of the defaults unless {@value #TILE_PROPERTY} says otherwise: 4 Mi, 16 MiB. */
    long DEFAULT_TILE_FLOATS = 4L << 20;

    /**
     * Max pooling: the maximum of each window, and where it is.
     *
     * @param input    contiguous {@code [images, C, H, W]}
     * @param geometry the window over one image
     * @param images   images in {@code input}
     * @param values   output, {@code [images, C, H', W']}
     * @param argmax   output of the values' size: the window position of each window's first
     *                 maximal tap; {@code null} when only the values are wanted
     */
    default void maxPool(Buffer input, ConvGeometry geometry, int images, Buffer values, Buffer argmax) {
        new ComposedPooling(this, geometry, images).max(input, values, argmax);
    }

    /**
     * The tap of each window that {@code argmax} names: {@code out[o] = input[window o's tap
     * argmax[o]]}, 0 where that tap is padding. The JVP of max pooling, and the adjoint of
     * {@link #maxPoolScatter}.
     *
     * @param input    contiguous {@code [images, C, H, W]}
     * @param argmax   contiguous {@code [images, C, H', W']}, as {@link #maxPool} writes it
     * @param geometry the window over one image
     * @param images   images in {@code input}
     * @param out      output, {@code [images, C, H', W']}
     */
    default void maxPoolGather(Buffer input, Buffer argmax, ConvGeometry geometry, int images, Buffer out) {
        new ComposedPooling(this, geometry, images).gather(input, argmax, out);
    }

    /**
     * The adjoint of {@link #maxPoolGather}, the VJP of max pooling: each {@code grad[o]} added
     * to the input element under window o's tap {@code argmax[o]} (dropped on padding), the rest
     * 0. Where windows overlap, an element's contributions add in a fixed order.
     *
     * @param grad     contiguous {@code [images, C, H', W']}
     * @param argmax   contiguous {@code [images, C, H', W']}, as {@link #maxPool} writes it
     * @param geometry the window over one image
     * @param images   images
     * @param out      output, {@code [images, C, H, W]}, overwritten
     */
    default void maxPoolScatter(Buffer grad, Buffer argmax, ConvGeometry geometry, int images, Buffer out) {
        new ComposedPooling(this, geometry, images).scatter(grad, argmax, out);
    }

    /**
     * Average pooling: the sum of each window (padding reads 0) over its tap count.
     *
     * @param input    contiguous {@code [images, C, H, W]}
     * @param geometry the window over one image
     * @param images   images in {@code input}
     * @param out      output, {@code [images, C, H', W']}
     */
    default void avgPool(Buffer input, ConvGeometry geometry, int images, Buffer out) {
        new ComposedPooling(this, geometry, images).average(input, out);
    }

    /**
     * The adjoint of {@link #avgPool}, its VJP: each {@code grad[o]} over the tap count, added
     * to every input element of window o (dropped on padding). Where windows overlap, an
     * element's contributions add in a fixed order.
     *
     * @param grad     contiguous {@code [images, C, H', W']}
     * @param geometry the window over one image
     * @param images   images
     * @param out      output, {@code [images, C, H, W]}, overwritten
     */
    default void avgPoolScatter(Buffer grad, ConvGeometry geometry, int images, Buffer out) {
        new ComposedPooling(this, geometry, images).scatter(grad, null, out);
    }
}
