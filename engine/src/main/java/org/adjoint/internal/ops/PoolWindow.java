package org.adjoint.internal.ops;

import org.adjoint.backend.Backend;
import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.ConvGeometry;
import org.adjoint.internal.Shapes;

/**
 * The attributes of a 2-D pooling and of the primitives its rules are made of: which pooling,
 * how many images, and the window over one image ({@link ConvGeometry} with the input's
 * channels and dilation 1). It also holds the four computations they share, each written with
 * {@link Backend#im2col}/{@link Backend#col2im} and the core, and tiled over images so that the
 * columns of one tile stay within {@value #DEFAULT_TILE_FLOATS} floats (or what the system property
 * {@value #TILE_PROPERTY} says), whatever the batch.
 *
 * <p>The columns of {@code n} images are {@code [n·C, k·k, H'·W']}: a window's taps lie along
 * the middle axis, so a pooling is a reduction over it. The max mask has that shape for the
 * whole batch, {@code [N, C·k·k, H'·W']}, one-hot along each window.
 *
 * @param max      max pooling (a mask input in the transpose and gather) rather than average pooling
 * @param images   images in the batch, {@code N}
 * @param geometry the window over one image
 */
public record PoolWindow(boolean max, int images, ConvGeometry geometry) {

    /**
     * System property that bounds the floats of columns per tile; tests lower it to cover
     * several tiles with small inputs. A tile holds at least one image.
     */
    public static final String TILE_PROPERTY = "adjoint.pool.tileFloats";

    /** Floats of columns per tile unless {@value #TILE_PROPERTY} says otherwise: 4 Mi, 16 MiB. */
    public static final long DEFAULT_TILE_FLOATS = 4L << 20;

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
     * The shape of the max mask: the columns of the whole batch.
     *
     * @return {@code [N, C·k·k, H'·W']}
     */
    public int[] maskShape() {
        return new int[] {images, Math.toIntExact(geometry.columnRows()), Math.toIntExact(geometry.columnCols())};
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

    private int taps() {
        return geometry.kernelHeight() * geometry.kernelWidth();
    }

    private int positions() {
        return Math.toIntExact(geometry.columnCols());
    }

    private long columnsPerImage() {
        return geometry.columnRows() * geometry.columnCols();
    }

    private int tileImages() {
        long limit = Long.getLong(TILE_PROPERTY, DEFAULT_TILE_FLOATS);
        long perImage = columnsPerImage();
        long fit = perImage == 0 ? images : Math.max(1, limit / perImage);
        return (int) Math.min(images, fit);
    }

    private int[] tileShape(int count) {
        return new int[] {count * geometry.channels(), taps(), positions()};
    }

    /**
     * Max pooling: the maximum of each window (padding reads −∞) and the one-hot mask of the
     * first maximal tap of each window.
     *
     * @param backend where
     * @param input   contiguous input
     * @param values  output, {@code [N, C, H', W']}
     * @param mask    output, {@link #maskShape()}, or {@code null} when only the values are wanted
     */
    void max(Backend backend, Buffer input, Buffer values, Buffer mask) {
        new Tiles(backend) {
            @Override
            void tile(int first, int count) {
                backend.im2col(input, geometry, first, count, Float.NEGATIVE_INFINITY, columns);
                Buffer tileValues = whole ? values : scratch(1, count * (long) positions() * geometry.channels());
                Buffer tileMask = whole || mask == null ? mask : scratch(2, count * columnsPerImage());
                backend.max(columns, count * geometry.channels(), taps(), positions(), tileValues, tileMask);
                if (!whole) {
                    copyInto(tileValues, values, first * outputPerImage(), count * outputPerImage());
                    if (mask != null) {
                        copyInto(tileMask, mask, first * columnsPerImage(), count * columnsPerImage());
                    }
                }
            }
        }.run();
    }

    /**
     * Average pooling: the sum of each window (padding reads 0) over {@code k·k}.
     *
     * @param backend where
     * @param input   contiguous input
     * @param out     output, {@code [N, C, H', W']}
     */
    void average(Backend backend, Buffer input, Buffer out) {
        new Tiles(backend) {
            @Override
            void tile(int first, int count) {
                backend.im2col(input, geometry, first, count, 0f, columns);
                sumWindows(1f / taps(), first, count, out);
            }
        }.run();
    }

    /**
     * The transpose of a pooling, linear in {@code grad}: each output element's value spread
     * over its window, weighted by {@code mask} (max) or by {@code 1/(k·k)} (average, no mask),
     * and added up where windows overlap.
     *
     * @param backend where
     * @param grad    contiguous {@code [N, C, H', W']}
     * @param mask    contiguous {@link #maskShape()}, or {@code null} for average pooling
     * @param out     output, {@code [N, C, H, W]}, overwritten
     */
    void scatter(Backend backend, Buffer grad, Buffer mask, Buffer out) {
        new Tiles(backend) {
            @Override
            void tile(int first, int count) {
                int[] shape = tileShape(count);
                long gradOffset = first * outputPerImage();
                if (mask == null) {
                    // columns[o, j, p] = ones[j] · grad[o, p] / (k·k): a batch of outer products, written in one call.
                    backend.gemm(false, false, shape[0], taps(), positions(), 1, 1f / taps(), ones(), 0, 0,
                            grad, gradOffset, positions(), 0f, columns, 0, (long) taps() * positions());
                } else {
                    backend.copyStrided(grad, gradOffset, new int[] {positions(), 0, 1}, columns, 0, shape);
                    multiplyByMask(mask, first, count);
                }
                backend.col2im(columns, geometry, first, count, out);
            }
        }.run();
    }

    /**
     * The adjoint of {@link #scatter} with a mask: each window of {@code input} (padding reads
     * 0) weighted by {@code mask} and summed, which picks the masked tap of each window.
     *
     * @param backend where
     * @param input   contiguous {@code [N, C, H, W]}
     * @param mask    contiguous {@link #maskShape()}
     * @param out     output, {@code [N, C, H', W']}
     */
    void gather(Backend backend, Buffer input, Buffer mask, Buffer out) {
        new Tiles(backend) {
            @Override
            void tile(int first, int count) {
                backend.im2col(input, geometry, first, count, 0f, columns);
                multiplyByMask(mask, first, count);
                sumWindows(1f, first, count, out);
            }
        }.run();
    }

    private long outputPerImage() {
        return (long) geometry.channels() * positions();
    }

    /** One pass over the batch in tiles of images, with the columns and other temporaries of one tile. */
    private abstract class Tiles {
        final Backend backend;
        final int tile = tileImages();
        final boolean whole = tile == images;
        Buffer columns;
        private final Buffer[] scratch = new Buffer[4];

        Tiles(Backend backend) {
            this.backend = backend;
        }

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

        final Buffer ones() {
            if (scratch[0] == null) {
                scratch[0] = backend.allocate(taps());
                backend.fill(scratch[0], 1f);
            }
            return scratch[0];
        }

        final void copyInto(Buffer from, Buffer to, long offset, long count) {
            backend.copyStrided(from, 0, new int[] {1}, to, offset, new int[] {Math.toIntExact(count)});
        }

        /** columns ⊙= the mask's entries for these images. */
        final void multiplyByMask(Buffer mask, int first, int count) {
            Buffer tileMask = mask;
            if (!whole) {
                tileMask = scratch(3, count * columnsPerImage());
                backend.copyStrided(mask, first * columnsPerImage(), new int[] {1}, tileMask, 0,
                        new int[] {Math.toIntExact(count * columnsPerImage())});
            }
            int[] shape = tileShape(count);
            int[] strides = Shapes.contiguousStrides(shape);
            backend.binary(BinaryOp.MUL, columns, strides, tileMask, strides, columns, shape);
        }

        /** out[first..] = scale · the sum over each window of the columns, as a batch of [1, k·k] × [k·k, H'·W'] products. */
        final void sumWindows(float scale, int first, int count, Buffer out) {
            backend.gemm(false, false, count * geometry.channels(), 1, positions(), taps(), scale, ones(), 0, 0,
                    columns, 0, (long) taps() * positions(), 0f, out, first * outputPerImage(), positions());
        }
    }
}
