package org.adjoint.backend;

/**
 * The default bodies of {@link PoolingOps}, written with {@link ConvolutionOps#im2col},
 * {@link ConvolutionOps#col2im} and the core, tiled over images so that the columns of one tile
 * stay within {@link PoolingOps#DEFAULT_TILE_FLOATS} floats (or what
 * {@link PoolingOps#TILE_PROPERTY} says), whatever the batch.
 *
 * <p>The columns of {@code n} images are {@code [n·C, k·k, H'·W']}: a window's taps lie along the
 * middle axis, so a pooling is a reduction over it, and a window position (the argmax) is an
 * index along it.
 */
final class ComposedPooling {

    private final PoolingOps backend;
    private final ConvGeometry geometry;
    private final int images;

    ComposedPooling(PoolingOps backend, ConvGeometry geometry, int images) {
        this.backend = backend;
        this.geometry = geometry;
        this.images = images;
    }

    private int taps() {
        return geometry.kernelHeight() * geometry.kernelWidth();
    }

    private int positions() {
        return Math.toIntExact(geometry.columnCols());
    }

    private long columnsPerImage() {
        return geometry.columnRows() * geometry.columnCols();
    }

    private long outputPerImage() {
        return (long) geometry.channels() * positions();
    }

    private int tileImages() {
        long limit = ComposedConvolution.positiveSetting(PoolingOps.TILE_PROPERTY, PoolingOps.DEFAULT_TILE_FLOATS);
        long perImage = columnsPerImage();
        long fit = perImage == 0 ? images : Math.max(1, limit / perImage);
        return (int) Math.min(images, fit);
    }

    /** The window maximum (padding reads −∞) and, unless {@code argmax} is null, the position of the first maximal tap. */
    void max(Buffer input, Buffer values, Buffer argmax) {
        new Tiles() {
            @Override
            void tile(int first, int count) {
                backend.im2col(input, geometry, first, count, Float.NEGATIVE_INFINITY, columns);
                Buffer tileValues = whole ? values : scratch(1, count * outputPerImage());
                Buffer tileMask = argmax == null ? null : scratch(2, count * columnsPerImage());
                backend.max(columns, count * geometry.channels(), taps(), positions(), tileValues, tileMask);
                if (!whole) {
                    copyInto(tileValues, values, first * outputPerImage(), count * outputPerImage());
                }
                if (argmax != null) {
                    // The one-hot mask times the taps' positions 0, 1, …, k·k − 1, summed per window: exact.
                    backend.gemm(false, false, count * geometry.channels(), 1, positions(), taps(), 1f, tapVector(true), 0,
                            0, tileMask, 0, (long) taps() * positions(), 0f, argmax, first * outputPerImage(),
                            positions());
                }
            }
        }.run();
    }

    /** Average pooling: the sum of each window (padding reads 0) over {@code k·k}. */
    void average(Buffer input, Buffer out) {
        new Tiles() {
            @Override
            void tile(int first, int count) {
                backend.im2col(input, geometry, first, count, 0f, columns);
                backend.gemm(false, false, count * geometry.channels(), 1, positions(), taps(), 1f / taps(),
                        tapVector(false), 0, 0, columns, 0, (long) taps() * positions(), 0f, out,
                        first * outputPerImage(), positions());
            }
        }.run();
    }

    /** The tap of each window that {@code argmax} names (padding reads 0). */
    void gather(Buffer input, Buffer argmax, Buffer out) {
        new Tiles() {
            @Override
            void tile(int first, int count) {
                backend.im2col(input, geometry, first, count, 0f, columns);
                Buffer tileOut = whole ? out : scratch(1, count * outputPerImage());
                backend.gather(columns, count * geometry.channels(), taps(), positions(), tileArgmax(argmax, first, count),
                        1, tileOut);
                if (!whole) {
                    copyInto(tileOut, out, first * outputPerImage(), count * outputPerImage());
                }
            }
        }.run();
    }

    /**
     * The transpose of a pooling: each of {@code grad}'s elements spread over its window, to the
     * tap {@code argmax} names (max) or by {@code 1/(k·k)} to every tap (average, {@code argmax}
     * null), and added up where windows overlap; {@code out} is overwritten.
     */
    void scatter(Buffer grad, Buffer argmax, Buffer out) {
        new Tiles() {
            @Override
            void tile(int first, int count) {
                long gradOffset = first * outputPerImage();
                if (argmax == null) {
                    // columns[o, j, p] = ones[j] · grad[o, p] / (k·k): a batch of outer products, written in one call.
                    backend.gemm(false, false, count * geometry.channels(), taps(), positions(), 1, 1f / taps(),
                            tapVector(false), 0, 0, grad, gradOffset, positions(), 0f, columns, 0,
                            (long) taps() * positions());
                } else {
                    Buffer tileGrad = grad;
                    if (!whole) {
                        tileGrad = scratch(1, count * outputPerImage());
                        copyFrom(grad, gradOffset, tileGrad, count * outputPerImage());
                    }
                    backend.fill(columns, 0f);
                    backend.scatterAdd(tileGrad, count * geometry.channels(), 1, positions(),
                            tileArgmax(argmax, first, count), columns, taps());
                }
                backend.col2im(columns, geometry, first, count, out);
            }
        }.run();
    }

    /** One pass over the batch in tiles of images, with the columns and other temporaries of one tile. */
    private abstract class Tiles {
        final int tile = tileImages();
        final boolean whole = tile == images;
        Buffer columns;
        private final Buffer[] scratch = new Buffer[5];

        abstract void tile(int first, int count);

        final void run() {
            if (images == 0 || columnsPerImage() == 0) {
                return;
            }
            try {
                // Overwritten by im2col or by the transpose's first write before any read.
                columns = backend.allocateUninitialized(tile * columnsPerImage());
                for (int first = 0; first < images; first += tile) {
                    tile(first, Math.min(tile, images - first));
                }
            } finally {
                if (columns != null) {
                    backend.release(columns);
                }
                for (Buffer buffer : scratch) {
                    if (buffer != null) {
                        backend.release(buffer);
                    }
                }
            }
        }

        /** A temporary that lives for the whole pass, allocated for the first tile (the largest). */
        final Buffer scratch(int slot, long size) {
            if (scratch[slot] == null) {
                scratch[slot] = backend.allocate(size);
            }
            return scratch[slot];
        }

        /** {@code k·k} ones, or with {@code positions} the taps' positions {@code 0, 1, …, k·k − 1}. */
        final Buffer tapVector(boolean positions) {
            int slot = positions ? 4 : 0;
            if (scratch[slot] == null) {
                if (positions) {
                    float[] values = new float[taps()];
                    for (int j = 0; j < values.length; j++) {
                        values[j] = j;
                    }
                    scratch[slot] = backend.upload(values);
                } else {
                    scratch[slot] = backend.allocate(taps());
                    backend.fill(scratch[slot], 1f);
                }
            }
            return scratch[slot];
        }

        /** The argmax entries of these images: {@code argmax} itself when the tile is the whole batch. */
        final Buffer tileArgmax(Buffer argmax, int first, int count) {
            if (whole) {
                return argmax;
            }
            Buffer tileArgmax = scratch(3, count * outputPerImage());
            copyFrom(argmax, first * outputPerImage(), tileArgmax, count * outputPerImage());
            return tileArgmax;
        }

        final void copyInto(Buffer from, Buffer to, long offset, long count) {
            backend.copyStrided(from, 0, new int[] {1}, to, offset, new int[] {Math.toIntExact(count)});
        }

        final void copyFrom(Buffer from, long offset, Buffer to, long count) {
            backend.copyStrided(from, offset, new int[] {1}, to, 0, new int[] {Math.toIntExact(count)});
        }
    }
}
