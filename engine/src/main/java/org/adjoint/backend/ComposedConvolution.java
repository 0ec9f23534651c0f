package org.adjoint.backend;

/**
 * The defaults of {@link ConvolutionOps#conv2d}, {@link ConvolutionOps#conv2dInputGrad} and
 * {@link ConvolutionOps#conv2dWeightGrad}, written with the SPI only: unfolding windows into
 * columns ({@code im2col}), GEMMs with offsets, one per group, and folding columns back
 * ({@code col2im}).
 *
 * <p>Per image, the columns are {@code [K, P]} with {@code K = C·kH·kW} (channel, tap row,
 * tap column) and {@code P = H'·W'}; group {@code g} owns rows {@code [g·K/G, (g+1)·K/G)} of
 * the columns, rows {@code [g·O/G, (g+1)·O/G)} of the weight {@code [O, K/G]} and channels
 * {@code [g·O/G, (g+1)·O/G)} of the output {@code [N, O, P]}. Images are unfolded a tile at a
 * time so that the columns workspace stays bounded; a 1×1 window with stride 1 and no padding
 * reads the images as their own columns and unfolds nothing.
 */
final class ComposedConvolution {

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

    private final ConvolutionOps backend;
    private final ConvGeometry geometry;
    private final int images;
    private final int outputs;
    private final int groups;

    ComposedConvolution(ConvolutionOps backend, ConvGeometry geometry, int images, int outputs, int groups) {
        this.backend = backend;
        this.geometry = geometry;
        this.images = images;
        this.outputs = outputs;
        this.groups = groups;
    }

    private long rows() {
        return geometry.columnRows();
    }

    private long positions() {
        return geometry.columnCols();
    }

    private boolean pointwise() {
        return geometry.kernelHeight() == 1 && geometry.kernelWidth() == 1 && geometry.stride() == 1
                && geometry.padding() == 0;
    }

    private static long tileFloats() {
        return positiveSetting(TILE_PROPERTY, DEFAULT_TILE_FLOATS);
    }

    /**
     * A size setting: a whole number of at least 1, or unset for the default.
     *
     * @param property the property
     * @param fallback its value when unset
     * @return the value
     * @throws IllegalArgumentException naming the property and its value otherwise (Long.getLong
     *                                  took "4M" for the default without a word)
     */
    static long positiveSetting(String property, long fallback) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        long parsed;
        try {
            parsed = Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + property + "=" + value + " is not a whole number of floats", e);
        }
        if (parsed < 1) {
            throw new IllegalArgumentException("-D" + property + " must be at least 1, got " + parsed);
        }
        return parsed;
    }

    private int tileImages() {
        long perImage = Math.max(1, rows() * positions());
        // The SPI's default im2col/col2im address a tile's images with float32 whole numbers, exact
        // below 2^24: a strided window can have far fewer columns than images, so bound the images too.
        long byIndex = (EXACT_FLOAT_INDICES - 1) / Math.max(1, geometry.imageSize());
        return (int) Math.max(1, Math.min(images, Math.min(tileFloats() / perImage, byIndex)));
    }

    /** {@code y = conv(x, w)}, every element of {@code y} written. */
    void forward(Buffer x, Buffer w, Buffer y) {
        overColumns(x, tileImages(), (first, count, columns) -> forwardTile(w, columns, first, count, y));
    }

    /** {@code y[first + i, group g] = W_g · columns[i, group g]} for the {@code count} images of a tile. */
    private void forwardTile(Buffer w, Buffer columns, int first, int count, Buffer y) {
        int m = outputs / groups;
        int k = Math.toIntExact(rows() / groups);
        int n = Math.toIntExact(positions());
        long columnStride = rows() * n;
        long outStride = (long) outputs * n;
        // In the pointwise case the columns are x itself, so they start at image `first`.
        long columnStart = pointwise() ? first * columnStride : 0;
        for (int g = 0; g < groups; g++) {
            backend.gemm(false, false, count, m, n, k, 1f, w, (long) g * m * k, 0,
                    columns, columnStart + (long) g * k * n, columnStride,
                    0f, y, first * outStride + (long) g * m * n, outStride);
        }
    }

    /** {@code dx = col2im(W_gᵀ · dy_g)}, every element of {@code dx} written. */
    void inputGrad(Buffer dy, Buffer w, Buffer dx) {
        if (pointwise()) {
            inputGradTile(w, dy, 0, images, dx);
            return;
        }
        forEachTile(tileImages(), (first, count, columns) -> {
            inputGradTile(w, dy, first, count, columns);
            backend.col2im(columns, geometry, first, count, dx);
        });
    }

    /** {@code columns[i, group g] = W_gᵀ · dy[first + i, group g]}; columns start at image {@code first} when they are {@code dx}. */
    private void inputGradTile(Buffer w, Buffer dy, int first, int count, Buffer columns) {
        int outPerGroup = outputs / groups;
        int rowsPerGroup = Math.toIntExact(rows() / groups);
        int n = Math.toIntExact(positions());
        long columnStride = rows() * n;
        long outStride = (long) outputs * n;
        // In the pointwise case the columns are dx itself, so they start at image `first`.
        long columnStart = pointwise() ? first * columnStride : 0;
        for (int g = 0; g < groups; g++) {
            backend.gemm(true, false, count, rowsPerGroup, n, outPerGroup, 1f, w, (long) g * outPerGroup * rowsPerGroup,
                    0, dy, first * outStride + (long) g * outPerGroup * n, outStride,
                    0f, columns, columnStart + (long) g * rowsPerGroup * n, columnStride);
        }
    }

    /**
     * {@code dw = Σ_images dy_g · columns_gᵀ}. Each image's product is one GEMM into a slot of
     * its own (so a backend may run a tile's GEMMs side by side), and the slots are summed in
     * image order after a carry slot holding the sum of the earlier tiles:
     * {@code (((0 + p_0) + p_1) + …)}, the same bits whatever the tiling and the thread count.
     */
    void weightGrad(Buffer x, Buffer dy, Buffer dw) {
        long weightSize = (long) outputs * rows() / groups;
        if (images == 0 || weightSize == 0) {
            backend.fill(dw, 0f);
            return;
        }
        int perTile = Math.max(1, Math.min(tileImages(),
                (int) Math.min(Integer.MAX_VALUE, tileFloats() / weightSize - 1)));
        Buffer products = backend.allocateUninitialized((perTile + 1) * weightSize);
        try {
            int[] stack = {0, Math.toIntExact(weightSize)};
            int[] sumStrides = {0, 1};
            overColumns(x, perTile, (first, count, columns) -> {
                if (first == 0) {
                    backend.fill(products, 0f);
                } else {
                    backend.copyStrided(dw, 0, new int[] {1}, products, 0, new int[] {stack[1]});
                }
                weightGradTile(dy, columns, first, count, products, weightSize);
                stack[0] = count + 1;
                backend.sumTo(products, stack, dw, sumStrides);
            });
        } finally {
            backend.release(products);
        }
    }

    /** {@code products[1 + i, group g] = dy[first + i, group g] · columns[i, group g]ᵀ} for the tile's images. */
    private void weightGradTile(Buffer dy, Buffer columns, int first, int count, Buffer products, long weightSize) {
        int m = outputs / groups;
        int n = Math.toIntExact(rows() / groups);
        int k = Math.toIntExact(positions());
        long columnStride = rows() * k;
        long outStride = (long) outputs * k;
        long columnStart = pointwise() ? first * columnStride : 0;
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
    private void overColumns(Buffer x, int perTile, Tile body) {
        if (pointwise()) {
            for (int first = 0; first < images; first += perTile) {
                body.run(first, Math.min(perTile, images - first), x);
            }
            return;
        }
        forEachTile(perTile, (first, count, columns) -> {
            backend.im2col(x, geometry, first, count, 0f, columns);
            body.run(first, count, columns);
        });
    }

    /**
     * Runs {@code tile} over consecutive tiles of at most {@code perTile} images with one
     * columns workspace (never zero-filled: im2col or a GEMM with beta 0 overwrites it),
     * released at the end.
     */
    private void forEachTile(int perTile, Tile tile) {
        if (images == 0) {
            return;
        }
        Buffer columns = backend.allocateUninitialized(perTile * rows() * positions());
        try {
            for (int first = 0; first < images; first += perTile) {
                tile.run(first, Math.min(perTile, images - first), columns);
            }
        } finally {
            backend.release(columns);
        }
    }
}
