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

    /**
     * A convolution layer with a ReLU followed by max pooling over windows that do not overlap,
     * {@code values = maxPool(relu(conv(x, w) + bias))} with the argmax: the bits of
     * {@link #conv2dBiasActivation} with {@link UnaryOp#RELU} followed by {@link #maxPool}.
     *
     * <p>The default runs those two calls through a temporary for the convolution's output; a
     * backend overrides it to pool while that output is in cache and never store it.
     *
     * @param input    {@code [images, C, H, W]}
     * @param weight   {@code [outputs, C/groups, kH, kW]}
     * @param bias     {@code [outputs]}, or {@code null} for none
     * @param geometry the convolution's window over one input image
     * @param images   N
     * @param outputs  output channels
     * @param groups   channel groups, dividing {@code C} and {@code outputs}
     * @param pool     the pooling's window over one image of the convolution's output
     *                 ({@code outputs} channels of {@code H' × W'}), windows that do not overlap
     * @param values   output, {@code [images, outputs, H'', W'']}
     * @param argmax   output of the values' size, or {@code null} when only the values are wanted
     * @throws IllegalArgumentException when the pooling's windows overlap
     */
    default void conv2dBiasReluMaxPool(Buffer input, Buffer weight, Buffer bias, ConvGeometry geometry, int images,
                                       int outputs, int groups, ConvGeometry pool, Buffer values, Buffer argmax) {
        requireApart("conv2dBiasReluMaxPool", pool);
        Buffer y = allocateUninitialized((long) images * outputs * geometry.columnCols());
        try {
            conv2dBiasActivation(input, weight, bias, UnaryOp.RELU, geometry, images, outputs, groups, y);
            maxPool(y, pool, images, values, argmax);
        } finally {
            release(y);
        }
    }

    /**
     * The backward pass of {@link #conv2dBiasReluMaxPool} up to the convolution's own gradients,
     * from the pooled values alone: {@code g}, the cotangent of {@code conv(x, w) + bias}, into
     * {@code grads[0, n)} ({@code n = images·outputs·H'·W'}) and with {@code biasGrad} the bias
     * gradient into {@code grads[n, n + outputs)}; the bits of {@link #maxPoolScatter} of
     * {@code valuesGrad} followed by {@link #conv2dBiasActivationGrad} with {@link UnaryOp#RELU}.
     * The ReLU's output is needed only on each window's argmax tap, where it is the pooled value;
     * elsewhere the scattered cotangent is +0 and so is {@code g}.
     *
     * <p>The default scatters the cotangent and the values into two temporaries and runs
     * {@link #conv2dBiasActivationGrad} on them; a backend overrides it to write {@code g} and
     * sum it in one pass.
     *
     * @param values     the pooled values, {@code [images, outputs, H'', W'']}
     * @param argmax     their taps, as {@link #maxPool} writes them
     * @param valuesGrad the cotangent of the values
     * @param pool       the pooling's window, as given to {@link #conv2dBiasReluMaxPool}
     * @param images     N
     * @param biasGrad   whether to write the bias gradient
     * @param grads      {@code n} elements, or {@code n + outputs} with {@code biasGrad}; overwritten
     * @throws IllegalArgumentException when the pooling's windows overlap
     */
    default void conv2dBiasReluMaxPoolGrad(Buffer values, Buffer argmax, Buffer valuesGrad, ConvGeometry pool,
                                           int images, boolean biasGrad, Buffer grads) {
        requireApart("conv2dBiasReluMaxPoolGrad", pool);
        long n = (long) images * pool.imageSize();
        Buffer dy = allocateUninitialized(n);
        Buffer y = null;
        try {
            y = allocateUninitialized(n);
            maxPoolScatter(valuesGrad, argmax, pool, images, dy);
            maxPoolScatter(values, argmax, pool, images, y);
            conv2dBiasActivationGrad(UnaryOp.RELU, y, dy, images, pool.channels(), pool.height() * pool.width(),
                    biasGrad, grads);
        } finally {
            if (y != null) {
                release(y);
            }
            release(dy);
        }
    }

    /**
     * Throws unless the pooling's windows do not overlap (so each element of the pooled image
     * gets at most one cotangent).
     *
     * @param operation the operation, for the message
     * @param pool      the pooling's window
     */
    private static void requireApart(String operation, ConvGeometry pool) {
        if ((long) pool.dilation() * (pool.kernelHeight() - 1) + 1 > pool.stride()
                || (long) pool.dilation() * (pool.kernelWidth() - 1) + 1 > pool.stride()) {
            throw new IllegalArgumentException(operation + ": the pooling windows overlap (" + pool
                    + "); only windows that do not overlap are fused");
        }
    }
}
