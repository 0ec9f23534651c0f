package org.adjoint.internal;

import java.util.Arrays;

/**
 * Where a tensor's elements lie in its storage: element {@code (i0, i1, ...)} is at
 * {@code offset + i0·strides[0] + i1·strides[1] + ...}, counted in elements.
 *
 * <p>A layout made by {@link #contiguous(int[])} is row-major from offset 0 and keeps no
 * strides array until one is asked for, so the common case allocates nothing beyond the
 * shape. Views ({@link #transposed()}, {@link #permuted(int[])}, {@link #narrowed}) keep explicit
 * strides. Layouts are immutable; {@link #shape()} and {@link #strides()} return the arrays
 * themselves, which callers must not modify.
 */
public final class Layout {

    private final int[] shape;
    private final int[] strides; // null: row-major from offset 0
    private final long offset;
    private final boolean partial; // reaches only part of its storage: never read as the whole flat array

    private Layout(int[] shape, int[] strides, long offset, boolean partial) {
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        this.partial = partial;
    }

    /**
     * The row-major layout of a shape, from offset 0.
     *
     * @param shape dimensions (not copied; the caller gives up the array)
     * @return the layout
     */
    public static Layout contiguous(int[] shape) {
        return new Layout(shape, null, 0, false);
    }

    /**
     * A layout with explicit strides; it reads as contiguous when they are row-major and the
     * offset is 0.
     *
     * @param shape   dimensions (not copied)
     * @param strides one stride per axis, in elements (not copied)
     * @param offset  position of the first element in the storage
     * @return the layout
     * @throws IllegalArgumentException when the ranks differ, a stride or the offset is negative
     */
    public static Layout strided(int[] shape, int[] strides, long offset) {
        if (strides.length != shape.length) {
            throw new IllegalArgumentException("layout: " + strides.length + " strides for shape " + Shapes.str(shape));
        }
        if (offset < 0) {
            throw new IllegalArgumentException("layout: negative offset " + offset);
        }
        for (int s : strides) {
            if (s < 0) {
                throw new IllegalArgumentException("layout: negative stride in " + Arrays.toString(strides));
            }
        }
        return derived(shape, strides, offset, false);
    }

    /**
     * A layout with explicit strides over part of a larger storage (one of several results a
     * kernel wrote into one buffer): like {@link #strided}, but never contiguous, so the storage
     * is never read as this tensor's flat array.
     *
     * @param shape   dimensions (not copied)
     * @param strides one stride per axis, in elements (not copied)
     * @param offset  position of the first element in the storage
     * @return the layout
     * @throws IllegalArgumentException as {@link #strided}
     */
    public static Layout part(int[] shape, int[] strides, long offset) {
        strided(shape, strides, offset);
        return derived(shape, strides, offset, true);
    }

    /** A layout derived from another: row-major from offset 0 reads as contiguous only when it reaches all of its storage. */
    private static Layout derived(int[] shape, int[] strides, long offset, boolean partial) {
        boolean rowMajor = !partial && offset == 0 && Arrays.equals(strides, Shapes.contiguousStrides(shape));
        return new Layout(shape, rowMajor ? null : strides, offset, partial);
    }

    /**
     * The dimensions.
     *
     * @return the shape (do not modify)
     */
    public int[] shape() {
        return shape;
    }

    /**
     * The number of axes.
     *
     * @return the rank
     */
    public int rank() {
        return shape.length;
    }

    /**
     * The number of elements.
     *
     * @return the product of the dimensions
     */
    public long size() {
        return Shapes.size(shape);
    }

    /**
     * The strides, in elements; for a contiguous layout a new row-major array.
     *
     * @return one stride per axis (do not modify)
     */
    public int[] strides() {
        return strides == null ? Shapes.contiguousStrides(shape) : strides;
    }

    /**
     * The position of the first element in the storage.
     *
     * @return the offset, in elements
     */
    public long offset() {
        return offset;
    }

    /**
     * Whether the elements are row-major from offset 0 and fill the storage, so that kernels
     * may read the storage as a flat array of {@link #size()} elements. A narrowed view is
     * never contiguous, even when its elements are the storage's first ones in order.
     *
     * @return true for a contiguous layout
     */
    public boolean isContiguous() {
        return strides == null;
    }

    /**
     * The layout with the last two axes swapped, over the same storage.
     *
     * @return the transposed view's layout
     * @throws IllegalArgumentException when the rank is below 2
     */
    public Layout transposed() {
        int rank = shape.length;
        if (rank < 2) {
            throw new IllegalArgumentException("transpose: needs rank at least 2, got shape " + Shapes.str(shape));
        }
        int[] newShape = shape.clone();
        int[] newStrides = strides().clone();
        swap(newShape, rank - 2, rank - 1);
        swap(newStrides, rank - 2, rank - 1);
        return derived(newShape, newStrides, offset, partial);
    }

    /**
     * The layout with its axes reordered, over the same storage: axis {@code i} of the result
     * is axis {@code axes[i]} of this one.
     *
     * @param axes a permutation of {@code 0 .. rank-1}, already checked
     * @return the permuted view's layout
     */
    public Layout permuted(int[] axes) {
        int[] own = strides();
        int[] newShape = new int[axes.length];
        int[] newStrides = new int[axes.length];
        for (int i = 0; i < axes.length; i++) {
            newShape[i] = shape[axes[i]];
            newStrides[i] = own[axes[i]];
        }
        return derived(newShape, newStrides, offset, partial);
    }

    /**
     * The slice {@code [start, start + length)} of one axis, over the same storage: the offset
     * moves by {@code start} strides of that axis and the axis shortens; with {@code drop}
     * (and length 1) the axis is removed.
     *
     * @param axis   a normalised axis
     * @param start  first index kept, already checked
     * @param length number of indices kept, already checked
     * @param drop   remove the axis (length must be 1)
     * @return the narrowed view's layout
     */
    public Layout narrowed(int axis, int start, int length, boolean drop) {
        int[] own = strides();
        long newOffset = length == 0 ? offset : offset + (long) start * own[axis];
        boolean part = partial || length < shape[axis];
        if (drop) {
            int[] newShape = new int[shape.length - 1];
            int[] newStrides = new int[shape.length - 1];
            for (int i = 0, j = 0; i < shape.length; i++) {
                if (i != axis) {
                    newShape[j] = shape[i];
                    newStrides[j++] = own[i];
                }
            }
            return derived(newShape, newStrides, newOffset, part);
        }
        int[] newShape = shape.clone();
        newShape[axis] = length;
        return derived(newShape, own.clone(), newOffset, part);
    }

    /**
     * The same elements seen with another shape of the same size, over the same storage, when
     * strides can express it (each run of axes merged into one was itself walked with one
     * stride, as splitting an axis or merging the contiguous last axes of a slice): the rule of
     * PyTorch's {@code view}.
     *
     * @param to the new shape, of this one's size (not copied)
     * @return the view's layout, or {@code null} when the elements need a copy
     */
    public Layout reshaped(int[] to) {
        if (size() == 0 || shape.length == 0) {
            return null;
        }
        int[] own = strides();
        int[] newStrides = new int[to.length];
        int viewAxis = to.length - 1;
        long chunkStride = own[shape.length - 1];
        long tensorCount = 1;
        long viewCount = 1;
        for (int axis = shape.length - 1; axis >= 0; axis--) {
            tensorCount *= shape[axis];
            // A chunk of axes walked with one stride ends here.
            if (axis == 0 || shape[axis - 1] != 1 && own[axis - 1] != tensorCount * chunkStride) {
                while (viewAxis >= 0 && (viewCount < tensorCount || to[viewAxis] == 1)) {
                    long stride = viewCount * chunkStride;
                    if (stride > Integer.MAX_VALUE) {
                        return null;
                    }
                    newStrides[viewAxis] = (int) stride;
                    viewCount *= to[viewAxis];
                    viewAxis--;
                }
                if (viewCount != tensorCount) {
                    return null;
                }
                if (axis > 0) {
                    chunkStride = own[axis - 1];
                    tensorCount = 1;
                    viewCount = 1;
                }
            }
        }
        return viewAxis == -1 ? derived(to, newStrides, offset, partial) : null;
    }

    /**
     * Whether the last two axes are a packed matrix, row-major ({@code [rows, cols]} strides
     * {@code [cols, 1]}) or column-major ({@code [1, rows]}), and the axes before them walk
     * matrices with one uniform stride: what a batched matrix product reads in place, from an
     * offset and with a batch stride. Axes of length 1 do not count.
     *
     * @return the batch stride in elements, or -1 when the layout is not such a batch
     */
    public long matrixBatchStride() {
        int rank = shape.length;
        if (rank < 2) {
            return -1;
        }
        int[] own = strides();
        int rows = shape[rank - 2];
        int cols = shape[rank - 1];
        boolean rowMajor = (cols == 1 || own[rank - 1] == 1) && (rows == 1 || own[rank - 2] == cols);
        boolean colMajor = (rows == 1 || own[rank - 2] == 1) && (cols == 1 || own[rank - 1] == rows);
        if (!rowMajor && !colMajor) {
            return -1;
        }
        long batchStride = (long) rows * cols;
        long expected = -1; // the stride the next outer batch axis must have
        for (int i = rank - 3; i >= 0; i--) {
            if (shape[i] == 1) {
                continue;
            }
            if (expected < 0) {
                batchStride = own[i];
            } else if (own[i] != expected) {
                return -1;
            }
            expected = (long) own[i] * shape[i];
        }
        return batchStride;
    }

    /**
     * Whether {@link #matrixBatchStride()} reads the last two axes column-major, that is as
     * the transpose of a row-major matrix.
     *
     * @return true when the matrices are stored transposed
     */
    public boolean matrixTransposed() {
        int rank = shape.length;
        int[] own = strides();
        int rows = shape[rank - 2];
        int cols = shape[rank - 1];
        boolean rowMajor = (cols == 1 || own[rank - 1] == 1) && (rows == 1 || own[rank - 2] == cols);
        return !rowMajor;
    }

    /**
     * Whether this layout is a contiguous tensor of the same size seen with its last two axes
     * swapped: what a matrix product can read in place by transposing its operand.
     *
     * @return true for the transpose of a contiguous tensor
     */
    public boolean isTransposedContiguous() {
        int rank = shape.length;
        if (strides == null || rank < 2 || offset != 0 || partial) {
            return false;
        }
        int[] swapped = strides.clone();
        int[] dims = shape.clone();
        swap(swapped, rank - 2, rank - 1);
        swap(dims, rank - 2, rank - 1);
        return Arrays.equals(swapped, Shapes.contiguousStrides(dims));
    }

    /**
     * Strides that read this layout's elements as if they had shape {@code to}, broadcasting
     * (stride 0) on axes of length 1.
     *
     * @param to a shape this one broadcasts to
     * @return one stride per axis of {@code to}
     */
    public int[] broadcastStrides(int[] to) {
        int[] own = strides();
        int[] result = new int[to.length];
        int shift = to.length - shape.length;
        for (int i = 0; i < shape.length; i++) {
            result[i + shift] = shape[i] == 1 && to[i + shift] != 1 ? 0 : own[i];
        }
        return result;
    }

    private static void swap(int[] a, int i, int j) {
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }

    @Override
    public String toString() {
        return isContiguous() ? Shapes.str(shape)
                : Shapes.str(shape) + " strides " + Arrays.toString(strides) + (offset == 0 ? "" : " offset " + offset);
    }
}
