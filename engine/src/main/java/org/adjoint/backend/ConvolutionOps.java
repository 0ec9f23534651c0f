package org.adjoint.backend;

/**
 * Sliding windows over images, what convolution and pooling are built on: unfolding windows
 * into columns (im2col), so that a convolution is one GEMM, and folding columns back (col2im),
 * its adjoint. The defaults are written with the core (a strided copy, a gather through an
 * index table made on the host, a scatter-add); a backend overrides them with direct kernels.
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
}
