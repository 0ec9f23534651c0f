package org.adjoint.internal.ops;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.ConvGeometry;
import org.adjoint.internal.Compute;

/**
 * The three computations of a 2-D convolution written on the backend SPI only: unfolding
 * windows into columns ({@code im2col}), GEMMs with offsets, one per group, and folding columns
 * back ({@code col2im}). Shared by {@link Conv2d}, {@link ConvInputGrad} and
 * {@link ConvWeightGrad}, which check shapes before calling.
 *
 * <p>Per image, the columns are {@code [K, P]} with {@code K = C·kH·kW} (channel, tap row,
 * tap column) and {@code P = H'·W'}; group {@code g} owns rows {@code [g·K/G, (g+1)·K/G)} of
 * the columns, rows {@code [g·O/G, (g+1)·O/G)} of the weight {@code [O, K/G]} and channels
 * {@code [g·O/G, (g+1)·O/G)} of the output {@code [N, O, P]}. Images are unfolded a tile at a
 * time so that the columns workspace stays bounded; a 1×1 window with stride 1 and no padding
 * reads the images as their own columns and unfolds nothing.
 */
final class ConvGemm {

    /**
     * The system property that bounds the columns workspace, in floats (default
     * {@value #DEFAULT_TILE_FLOATS}); a tile holds at least one image whatever its value.
     * Lowering it changes no result, only how many images are unfolded at once, so tests set
     * it to exercise several tiles on small inputs.
     */
    static final String TILE_PROPERTY = "adjoint.conv.tileFloats";

    /**
     * 4 MiB of float32 columns: a tile's columns are still in the last-level cache when its
     * GEMMs read them (16 MiB, the whole batch of the Fashion-MNIST CNN's second layer, made
     * a ResNet block's forward and backward about half as fast again in ConvBench), and a tile
     * still holds many images of a small layer for the GEMMs to run side by side.
     */
    static final long DEFAULT_TILE_FLOATS = 1L << 20;

    /** Whole numbers that float32 holds exactly: the default window kernels' indices stay below. */
    private static final long EXACT_FLOAT_INDICES = 1L << 24;

    private ConvGemm() {
    }

    /**
     * Sizes of one convolution, from the input's and the weight's shapes.
     *
     * @param images   N
     * @param geometry the window over one image of C channels
     * @param outputs  O, output channels
     * @param groups   G
     */
    record Sizes(int images, ConvGeometry geometry, int outputs, int groups) {

        static Sizes of(int[] input, int[] weight, Conv2d.Spec spec) {
            return new Sizes(input[0], new ConvGeometry(input[1], input[2], input[3], weight[2], weight[3],
                    spec.stride(), spec.padding(), spec.dilation()), weight[0], spec.groups());
        }

        int[] inputShape() {
            return new int[] {images, geometry.channels(), geometry.height(), geometry.width()};
        }

        int[] weightShape() {
            return new int[] {outputs, geometry.channels() / groups, geometry.kernelHeight(), geometry.kernelWidth()};
        }

        int[] outputShape() {
            return new int[] {images, outputs, geometry.outHeight(), geometry.outWidth()};
        }

        long rows() {
            return geometry.columnRows();
        }

        long positions() {
            return geometry.columnCols();
        }

        boolean pointwise() {
            return geometry.kernelHeight() == 1 && geometry.kernelWidth() == 1 && geometry.stride() == 1
                    && geometry.padding() == 0;
        }

        long tileFloats() {
            return Long.getLong(TILE_PROPERTY, DEFAULT_TILE_FLOATS);
        }

        int tileImages() {
            long perImage = Math.max(1, rows() * positions());
            long budget = tileFloats();
            // The SPI's default im2col/col2im address a tile's images with float32 whole numbers, exact
            // below 2^24: a strided window can have far fewer columns than images, so bound the images too.
            long byIndex = (EXACT_FLOAT_INDICES - 1) / Math.max(1, geometry.imageSize());
            return (int) Math.max(1, Math.min(images, Math.min(budget / perImage, byIndex)));
        }
    }

    /**
     * {@code y = conv(x, w)}.
     *
     * @param sizes  the sizes
     * @param input  {@code [N, C, H, W]}
     * @param weight {@code [O, C/G, kH, kW]}
     * @return {@code [N, O, H', W']}
     */
    static Tensor forward(Sizes sizes, Tensor input, Tensor weight) {
        Backend backend = Compute.backend("conv2d", input, weight);
        Buffer x = Compute.buffer(input);
        Buffer w = Compute.buffer(weight);
        int[] outShape = sizes.outputShape();
        // Every element is written by a GEMM with beta 0.
        Buffer y = Compute.allocateUninitialized(backend, (long) sizes.images() * sizes.outputs() * sizes.positions());
        overColumns(backend, sizes, x, sizes.tileImages(),
                (first, count, columns) -> forwardTile(backend, sizes, w, columns, first, count, y));
        return Compute.wrap(backend, y, outShape);
    }

    /** {@code y[first + i, group g] = W_g · columns[i, group g]} for the {@code count} images of a tile. */
    private static void forwardTile(Backend backend, Sizes sizes, Buffer w, Buffer columns, int first, int count,
                                    Buffer y) {
        int groups = sizes.groups();
        int m = sizes.outputs() / groups;
        int k = Math.toIntExact(sizes.rows() / groups);
        int n = Math.toIntExact(sizes.positions());
        long columnStride = sizes.rows() * n;
        long outStride = (long) sizes.outputs() * n;
        // In the pointwise case the columns are x itself, so they start at image `first`.
        long columnStart = sizes.pointwise() ? first * columnStride : 0;
        for (int g = 0; g < groups; g++) {
            backend.gemm(false, false, count, m, n, k, 1f, w, (long) g * m * k, 0,
                    columns, columnStart + (long) g * k * n, columnStride,
                    0f, y, first * outStride + (long) g * m * n, outStride);
        }
    }

    /**
     * {@code dx}, the adjoint of {@link #forward} in {@code x}: {@code col2im(W_gᵀ · dy_g)}.
     *
     * @param sizes         the sizes
     * @param outputGrad    {@code [N, O, H', W']}
     * @param weight        {@code [O, C/G, kH, kW]}
     * @return {@code [N, C, H, W]}
     */
    static Tensor inputGrad(Sizes sizes, Tensor outputGrad, Tensor weight) {
        Backend backend = Compute.backend("conv2d", outputGrad, weight);
        Buffer dy = Compute.buffer(outputGrad);
        Buffer w = Compute.buffer(weight);
        int[] inShape = sizes.inputShape();
        // Every element is written by col2im (or, pointwise, by a GEMM with beta 0).
        Buffer dx = Compute.allocateUninitialized(backend, (long) sizes.images() * sizes.geometry().imageSize());
        if (sizes.pointwise()) {
            inputGradTile(backend, sizes, w, dy, 0, sizes.images(), dx);
            return Compute.wrap(backend, dx, inShape);
        }
        forEachTile(backend, sizes, sizes.tileImages(), (first, count, columns) -> {
            inputGradTile(backend, sizes, w, dy, first, count, columns);
            backend.col2im(columns, sizes.geometry(), first, count, dx);
        });
        return Compute.wrap(backend, dx, inShape);
    }

    /** {@code columns[i, group g] = W_gᵀ · dy[first + i, group g]}; columns start at image {@code first} when they are {@code dx}. */
    private static void inputGradTile(Backend backend, Sizes sizes, Buffer w, Buffer dy, int first, int count,
                                      Buffer columns) {
        int groups = sizes.groups();
        int outPerGroup = sizes.outputs() / groups;
        int rowsPerGroup = Math.toIntExact(sizes.rows() / groups);
        int n = Math.toIntExact(sizes.positions());
        long columnStride = sizes.rows() * n;
        long outStride = (long) sizes.outputs() * n;
        // In the pointwise case the columns are dx itself, so they start at image `first`.
        long columnStart = sizes.pointwise() ? first * columnStride : 0;
        for (int g = 0; g < groups; g++) {
            backend.gemm(true, false, count, rowsPerGroup, n, outPerGroup, 1f, w, (long) g * outPerGroup * rowsPerGroup,
                    0, dy, first * outStride + (long) g * outPerGroup * n, outStride,
                    0f, columns, columnStart + (long) g * rowsPerGroup * n, columnStride);
        }
    }

    /**
     * {@code dw}, the adjoint of {@link #forward} in {@code w}: {@code Σ_images dy_g · columns_gᵀ}.
     *
     * <p>Each image's product is one GEMM into a slot of its own (so a backend may run a
     * tile's GEMMs side by side), and the slots are summed in image order after a carry slot
     * holding the sum of the earlier tiles: {@code (((0 + p_0) + p_1) + …)}, the same bits
     * whatever the tiling and the thread count.
     *
     * @param sizes      the sizes
     * @param input      {@code [N, C, H, W]}
     * @param outputGrad {@code [N, O, H', W']}
     * @return {@code [O, C/G, kH, kW]}
     */
    static Tensor weightGrad(Sizes sizes, Tensor input, Tensor outputGrad) {
        Backend backend = Compute.backend("conv2d", input, outputGrad);
        Buffer x = Compute.buffer(input);
        Buffer dy = Compute.buffer(outputGrad);
        int[] weightShape = sizes.weightShape();
        long weightSize = (long) sizes.outputs() * sizes.rows() / sizes.groups();
        Buffer dw = Compute.allocate(backend, weightSize);
        if (sizes.images() == 0 || weightSize == 0) {
            return Compute.wrap(backend, dw, weightShape);
        }
        int perTile = Math.max(1, Math.min(sizes.tileImages(),
                (int) Math.min(Integer.MAX_VALUE, sizes.tileFloats() / weightSize - 1)));
        Buffer products = backend.allocateUninitialized((perTile + 1) * weightSize);
        try {
            int[] stack = {0, Math.toIntExact(weightSize)};
            int[] sumStrides = {0, 1};
            overColumns(backend, sizes, x, perTile, (first, count, columns) -> {
                if (first == 0) {
                    backend.fill(products, 0f);
                } else {
                    backend.copyStrided(dw, 0, new int[] {1}, products, 0, new int[] {stack[1]});
                }
                weightGradTile(backend, sizes, dy, columns, first, count, products, weightSize);
                stack[0] = count + 1;
                backend.sumTo(products, stack, dw, sumStrides);
            });
        } finally {
            backend.release(products);
        }
        return Compute.wrap(backend, dw, weightShape);
    }

    /** {@code products[1 + i, group g] = dy[first + i, group g] · columns[i, group g]ᵀ} for the tile's images. */
    private static void weightGradTile(Backend backend, Sizes sizes, Buffer dy, Buffer columns, int first, int count,
                                       Buffer products, long weightSize) {
        int groups = sizes.groups();
        int m = sizes.outputs() / groups;
        int n = Math.toIntExact(sizes.rows() / groups);
        int k = Math.toIntExact(sizes.positions());
        long columnStride = sizes.rows() * k;
        long outStride = (long) sizes.outputs() * k;
        long columnStart = sizes.pointwise() ? first * columnStride : 0;
        for (int g = 0; g < groups; g++) {
            backend.gemm(false, true, count, m, n, k, 1f, dy, first * outStride + (long) g * m * k, outStride,
                    columns, columnStart + (long) g * n * k, columnStride,
                    0f, products, weightSize + (long) g * m * n, weightSize);
        }
    }

    @FunctionalInterface
    private interface Tile {
        void run(int first, int count, Buffer columns);
    }

    /**
     * Runs {@code body} over the images unfolded into columns, at most {@code perTile} images
     * at a time; a pointwise convolution's images are their own columns, handed over a tile
     * at a time too.
     */
    private static void overColumns(Backend backend, Sizes sizes, Buffer x, int perTile, Tile body) {
        if (sizes.pointwise()) {
            for (int first = 0; first < sizes.images(); first += perTile) {
                body.run(first, Math.min(perTile, sizes.images() - first), x);
            }
            return;
        }
        forEachTile(backend, sizes, perTile, (first, count, columns) -> {
            backend.im2col(x, sizes.geometry(), first, count, 0f, columns);
            body.run(first, count, columns);
        });
    }

    /**
     * Runs {@code tile} over consecutive tiles of at most {@code perTile} images with one
     * columns workspace (never zero-filled: im2col or a GEMM with beta 0 overwrites it),
     * released at the end.
     */
    private static void forEachTile(Backend backend, Sizes sizes, int perTile, Tile tile) {
        int images = sizes.images();
        if (images == 0) {
            return;
        }
        Buffer columns = backend.allocateUninitialized(perTile * sizes.rows() * sizes.positions());
        try {
            for (int first = 0; first < images; first += perTile) {
                tile.run(first, Math.min(perTile, images - first), columns);
            }
        } finally {
            backend.release(columns);
        }
    }
}
