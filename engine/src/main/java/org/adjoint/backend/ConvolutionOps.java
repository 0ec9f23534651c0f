package org.adjoint.backend;

/**
 * Sliding windows over images, what convolution and pooling are built on: unfolding windows
 * into columns (im2col), so that a convolution is one GEMM, and folding columns back (col2im),
 * its adjoint; and the three computations of a 2-D convolution, which by default are written
 * with those and {@link #gemm}; and the fused layer {@code activation(conv + bias)} forward and
 * its activation's derivative with the bias gradient backward, by default written with the
 * convolution and element-wise core calls. The window defaults are written with the core (a
 * strided copy, a gather through an index table made on the host, a scatter-add); a backend
 * overrides them with direct kernels, and the convolution's with kernels that need no columns
 * at all.
 *
 * <p>In the three convolution methods, {@code geometry} is the window over one input image of
 * {@code C} channels, the input is {@code [images, C, H, W]}, the weight
 * {@code [outputs, C/groups, kH, kW]} and the output {@code [images, outputs, H', W']}, all
 * contiguous; the callers have checked that the sizes fit. Each element of a result sums its
 * products in an order that the shapes fix, never the thread count.
 */
public interface ConvolutionOps extends BackendCore {

    /**
     * Unfolds images {@code [firstImage, firstImage + images)} of {@code input}, contiguous
     * {@code [N, C, H, W]}, into {@code columns}, contiguous {@code [images, columnRows, columnCols]}
     * (see {@link ConvGeometry}); a tap on padding reads {@code padValue}.
     *
     * <p>The default copies the images into a temporary with one more element, set to
     * {@code padValue}, and gathers from it through {@link ConvGeometry#windowIndices(int)}.
     *
     * @param input      the images
     * @param geometry   the window
     * @param firstImage the first image to unfold
     * @param images     how many
     * @param padValue   what padding reads: 0 for a convolution, -∞ for max pooling
     * @param columns    output, overwritten
     */
    default void im2col(Buffer input, ConvGeometry geometry, int firstImage, int images, float padValue,
                        Buffer columns) {
        long count = images * geometry.columnRows() * geometry.columnCols();
        if (count == 0) {
            return;
        }
        long tile = images * geometry.imageSize();
        Buffer indices = upload(geometry.windowIndices(images));
        Buffer source = null;
        try {
            source = allocate(tile + 1);
            fill(source, padValue);
            copyStrided(input, firstImage * geometry.imageSize(), new int[] {1}, source, 0,
                    new int[] {Math.toIntExact(tile)});
            gather(source, 1, Math.toIntExact(tile + 1), 1, indices, (int) count, columns);
        } finally {
            if (source != null) {
                release(source);
            }
            release(indices);
        }
    }

    /**
     * The adjoint of {@link #im2col}: overwrites images {@code [firstImage, firstImage + images)}
     * of {@code input} with the sum, for each element, of the column entries that read it
     * (entries on padding are dropped); the other images are left as they are.
     *
     * <p>The default scatter-adds through {@link ConvGeometry#windowIndices(int)} into a
     * zeroed temporary with one more element (where padding lands) and copies the images out.
     *
     * @param columns    contiguous {@code [images, columnRows, columnCols]}
     * @param geometry   the window
     * @param firstImage the first image to write
     * @param images     how many
     * @param input      contiguous {@code [N, C, H, W]}, updated in place
     */
    default void col2im(Buffer columns, ConvGeometry geometry, int firstImage, int images, Buffer input) {
        long tile = images * geometry.imageSize();
        if (tile == 0) {
            return;
        }
        long count = images * geometry.columnRows() * geometry.columnCols();
        Buffer indices = upload(geometry.windowIndices(images));
        Buffer sums = null;
        try {
            sums = allocate(tile + 1);
            scatterAdd(columns, 1, (int) count, 1, indices, sums, Math.toIntExact(tile + 1));
            copyStrided(sums, 0, new int[] {1}, input, firstImage * geometry.imageSize(),
                    new int[] {Math.toIntExact(tile)});
        } finally {
            if (sums != null) {
                release(sums);
            }
            release(indices);
        }
    }

    /**
     * {@code y = conv(x, w)}, a cross-correlation as in PyTorch, without the bias; every
     * element of {@code output} is written.
     *
     * <p>The default unfolds a tile of images at a time ({@link #im2col}, at most
     * {@code adjoint.conv.tileFloats} floats of columns, 2^20 unless set) and runs one
     * {@link #gemm} per group over the tile's images.
     *
     * @param input    {@code [images, C, H, W]}
     * @param weight   {@code [outputs, C/groups, kH, kW]}
     * @param geometry the window over one input image
     * @param images   N
     * @param outputs  output channels
     * @param groups   channel groups, dividing {@code C} and {@code outputs}
     * @param output   {@code [images, outputs, H', W']}, overwritten
     */
    default void conv2d(Buffer input, Buffer weight, ConvGeometry geometry, int images, int outputs, int groups,
                        Buffer output) {
        new ComposedConvolution(this, geometry, images, outputs, groups).forward(input, weight, output);
    }

    /**
     * The input gradient of {@link #conv2d} (a transposed convolution): {@code dx} from
     * {@code dy} and {@code w}; every element of {@code inputGrad} is written.
     *
     * <p>The default multiplies {@code W_gᵀ · dy_g} into columns a tile of images at a time
     * and folds them back with {@link #col2im}.
     *
     * @param outputGrad {@code [images, outputs, H', W']}
     * @param weight     {@code [outputs, C/groups, kH, kW]}
     * @param geometry   the window over one input image
     * @param images     N
     * @param outputs    output channels
     * @param groups     channel groups
     * @param inputGrad  {@code [images, C, H, W]}, overwritten
     */
    default void conv2dInputGrad(Buffer outputGrad, Buffer weight, ConvGeometry geometry, int images, int outputs,
                                 int groups, Buffer inputGrad) {
        new ComposedConvolution(this, geometry, images, outputs, groups).inputGrad(outputGrad, weight, inputGrad);
    }

    /**
     * The weight gradient of {@link #conv2d}: {@code dw = Σ_images dy_g · columns_g(x)ᵀ}, the
     * images summed in order; every element of {@code weightGrad} is written (zeros when
     * there are no images).
     *
     * <p>The default unfolds a tile of images at a time, multiplies each image's product into
     * a slot of its own and sums the slots in image order after the sum of the earlier tiles.
     *
     * @param input      {@code [images, C, H, W]}
     * @param outputGrad {@code [images, outputs, H', W']}
     * @param geometry   the window over one input image
     * @param images     N
     * @param outputs    output channels
     * @param groups     channel groups
     * @param weightGrad {@code [outputs, C/groups, kH, kW]}, overwritten
     */
    default void conv2dWeightGrad(Buffer input, Buffer outputGrad, ConvGeometry geometry, int images, int outputs,
                                  int groups, Buffer weightGrad) {
        new ComposedConvolution(this, geometry, images, outputs, groups).weightGrad(input, outputGrad, weightGrad);
    }

    /**
     * {@code y[n, o, p] = activation(conv(x, w)[n, o, p] + bias[o])}: {@link #conv2d}, then the
     * bias and the activation in place, each element rounded as the three separate operations
     * round it (the sum, then the addition of the bias, then the activation); every element of
     * {@code output} is written.
     *
     * <p>The default runs {@link #conv2d}, a broadcast {@link BinaryOp#ADD} of the bias and a
     * {@link #unary} over the whole output, the calls a convolution followed by an addition and
     * an activation makes; a backend overrides it to apply both while the convolution's output
     * is still in cache.
     *
     * @param input      {@code [images, C, H, W]}
     * @param weight     {@code [outputs, C/groups, kH, kW]}
     * @param bias       {@code [outputs]}, or {@code null} for none
     * @param activation {@link UnaryOp#RELU}, {@link UnaryOp#TANH}, {@link UnaryOp#SIGMOID}, or {@code null} for none
     * @param geometry   the window over one input image
     * @param images     N
     * @param outputs    output channels
     * @param groups     channel groups, dividing {@code C} and {@code outputs}
     * @param output     {@code [images, outputs, H', W']}, overwritten
     * @throws IllegalArgumentException for another activation
     */
    default void conv2dBiasActivation(Buffer input, Buffer weight, Buffer bias, UnaryOp activation,
                                      ConvGeometry geometry, int images, int outputs, int groups, Buffer output) {
        LinearTail.check("conv2dBiasActivation", activation);
        conv2d(input, weight, geometry, images, outputs, groups, output);
        long count = images * outputs * geometry.columnCols();
        if (count == 0) {
            return;
        }
        if (bias != null) {
            int positions = Math.toIntExact(geometry.columnCols());
            binary(BinaryOp.ADD, output, new int[] {outputs * positions, positions, 1}, bias, new int[] {0, 1, 0},
                    output, new int[] {images, outputs, positions});
        }
        if (activation != null) {
            unary(activation, 0f, output, output);
        }
    }

    /**
     * The backward pass of {@link #conv2dBiasActivation} up to the convolution's own gradients:
     * {@code g = outputGrad · activation'(y)} from the activation's output {@code y}, written to
     * {@code grads[0, n)} with {@code n = images·outputs·positions}, and, when {@code biasGrad},
     * the bias gradient {@code Σ g} over images and positions written to {@code grads[n, n + outputs)}.
     * The derivative is a factor multiplied in, as the activation's VJP multiplies it: for ReLU
     * {@code step(y)} (so a negative cotangent where {@code y ≤ 0} gives −0, and a NaN stays
     * NaN), {@code 1 − y²} for tanh, {@code y·(1 − y)} for the sigmoid, none for {@code null}.
     * The bias gradient has the bits of {@link #sumTo} of {@code g [images, outputs, positions]}
     * to {@code [outputs]}.
     *
     * <p>The default computes the factor into a temporary, multiplies, and sums with
     * {@link #sumTo}; a backend overrides it to sum each channel's products while they are in
     * registers.
     *
     * @param activation {@link UnaryOp#RELU}, {@link UnaryOp#TANH}, {@link UnaryOp#SIGMOID}, or {@code null} for none
     * @param output     {@code y [images, outputs, positions]}, the activation's output
     * @param outputGrad its cotangent, of the same shape
     * @param images     N
     * @param outputs    channels
     * @param positions  {@code H'·W'}
     * @param biasGrad   whether to write the bias gradient
     * @param grads      {@code n} elements, or {@code n + outputs} with {@code biasGrad}; overwritten
     * @throws IllegalArgumentException for another activation
     */
    default void conv2dBiasActivationGrad(UnaryOp activation, Buffer output, Buffer outputGrad, int images,
                                          int outputs, int positions, boolean biasGrad, Buffer grads) {
        LinearTail.check("conv2dBiasActivationGrad", activation);
        int n = Math.toIntExact((long) images * outputs * positions);
        int[] contiguous = {1};
        int[] shape = {n};
        if (n > 0 && activation == null) {
            copyStrided(outputGrad, contiguous, grads, shape);
        } else if (n > 0) {
            Buffer factor = allocateUninitialized(n);
            Buffer one = activation == UnaryOp.RELU ? null : Scratch.scalar(this, 1f);
            try {
                int[] broadcast = {0};
                switch (activation) {
                    case RELU -> unary(UnaryOp.STEP, 0f, output, factor);
                    case TANH -> {
                        binary(BinaryOp.MUL, output, contiguous, output, contiguous, factor, shape);
                        binary(BinaryOp.SUB, one, broadcast, factor, contiguous, factor, shape);
                    }
                    default -> {
                        binary(BinaryOp.SUB, one, broadcast, output, contiguous, factor, shape);
                        binary(BinaryOp.MUL, output, contiguous, factor, contiguous, factor, shape);
                    }
                }
                binary(BinaryOp.MUL, outputGrad, contiguous, factor, contiguous, grads, shape);
            } finally {
                if (one != null) {
                    release(one);
                }
                release(factor);
            }
        }
        if (!biasGrad) {
            return;
        }
        Buffer sums = allocate(outputs);
        try {
            sumTo(grads, new int[] {images, outputs, positions}, sums, new int[] {0, 1, 0});
            copyStrided(sums, 0, contiguous, grads, n, new int[] {outputs});
        } finally {
            release(sums);
        }
    }
}
