package org.adjoint.internal;

import java.util.Arrays;

/**
 * Where a tensor's elements lie in its storage: element {@code (i0, i1, ...)} is at
 * {@code offset + i0·strides[0] + i1·strides[1] + ...}, counted in elements.
 *
 * <p>A layout made by {@link #contiguous(int[])} is row-major from offset 0 and keeps no
 * strides array until one is asked for, so the common case allocates nothing beyond the
 * shape. Views ({@link #transposed()}, later permute, narrow and expand) keep explicit
 * strides. Layouts are immutable; {@link #shape()} and {@link #strides()} return the arrays
 * themselves, which callers must not modify.
 */
public final class Layout {

    private final int[] shape;
    private final int[] strides; // null: row-major from offset 0
    private final long offset;

    private Layout(int[] shape, int[] strides, long offset) {
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
    }

    /**
     * The row-major layout of a shape, from offset 0.
     *
     * @param shape dimensions (not copied; the caller gives up the array)
     * @return the layout
     */
    public static Layout contiguous(int[] shape) {
        return new Layout(shape, null, 0);
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
        boolean rowMajor = offset == 0 && Arrays.equals(strides, Shapes.contiguousStrides(shape));
        return new Layout(shape, rowMajor ? null : strides, offset);
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
     * Whether the elements are row-major from offset 0, so that kernels may read the storage
     * as a flat array of {@link #size()} elements.
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
        return strided(newShape, newStrides, offset);
    }

    /**
     * Whether this layout is a contiguous tensor of the same size seen with its last two axes
     * swapped: what a matrix product can read in place by transposing its operand.
     *
     * @return true for the transpose of a contiguous tensor
     */
    public boolean isTransposedContiguous() {
        int rank = shape.length;
        if (strides == null || rank < 2 || offset != 0) {
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
