package org.adjoint.cuda.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The kernels' {@code struct Strided}, passed by value: an iteration shape of at most
 * {@value #MAX_RANK} axes and up to two operands' strides per axis. C layout (x86-64 and
 * NVPTX alike): {@code int rank} at byte 0, 4 bytes of padding, {@code long long shape[8]} at
 * 8, {@code a[8]} at 72, {@code b[8]} at 136; {@value #BYTES} bytes, little-endian.
 *
 * <p>{@link #of} first drops axes of length 1 and merges neighbouring axes that every operand
 * walks contiguously, so that engine shapes of any rank that reduce to 8 axes or fewer run,
 * and most element-wise calls reach the kernel as one axis.
 */
public final class StridedArgument {

    /** Most axes the kernels take. */
    public static final int MAX_RANK = 8;
    /** Size of the C struct. */
    public static final int BYTES = 200;
    /** Byte offset of {@code shape}. */
    public static final int SHAPE_OFFSET = 8;
    /** Byte offset of {@code a}. */
    public static final int A_OFFSET = SHAPE_OFFSET + 8 * MAX_RANK;
    /** Byte offset of {@code b}. */
    public static final int B_OFFSET = A_OFFSET + 8 * MAX_RANK;

    private final long[] shape;
    private final long[] a;
    private final long[] b;
    private final long count;

    private StridedArgument(long[] shape, long[] a, long[] b, long count) {
        this.shape = shape;
        this.a = a;
        this.b = b;
        this.count = count;
    }

    /**
     * The argument for an iteration over {@code shape}, simplified.
     *
     * @param shape    iteration shape, any rank
     * @param aStrides first operand's stride per axis
     * @param bStrides second operand's stride per axis, or {@code null} for none (zeros)
     * @return the argument; {@link #count()} is 0 when an axis is empty
     * @throws IllegalArgumentException when more than {@value #MAX_RANK} axes remain after merging
     */
    public static StridedArgument of(int[] shape, int[] aStrides, int[] bStrides) {
        return of(widen(shape), widen(aStrides), bStrides == null ? null : widen(bStrides));
    }

    /**
     * As {@link #of(int[], int[], int[])}, for an iteration space that the backend builds
     * itself (a split sum's partials), whose lengths and strides may pass {@code int}.
     *
     * @param shape    iteration shape, any rank
     * @param aStrides first operand's stride per axis
     * @param bStrides second operand's stride per axis, or {@code null} for none (zeros)
     * @return the argument; {@link #count()} is 0 when an axis is empty
     * @throws IllegalArgumentException when more than {@value #MAX_RANK} axes remain after merging
     */
    public static StridedArgument of(long[] shape, long[] aStrides, long[] bStrides) {
        long[] s = new long[shape.length];
        long[] sa = new long[shape.length];
        long[] sb = new long[shape.length];
        int rank = 0;
        long count = 1;
        for (int axis = 0; axis < shape.length; axis++) {
            long length = shape[axis];
            try {
                count = Math.multiplyExact(count, length);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("cuda backend: shape " + Arrays.toString(shape)
                        + " has more than " + Long.MAX_VALUE + " elements", e);
            }
            if (length == 1) {
                continue;
            }
            long strideA = aStrides[axis];
            long strideB = bStrides == null ? 0 : bStrides[axis];
            if (rank > 0 && sa[rank - 1] == strideA * length && sb[rank - 1] == strideB * length) {
                s[rank - 1] *= length;
                sa[rank - 1] = strideA;
                sb[rank - 1] = strideB;
            } else {
                s[rank] = length;
                sa[rank] = strideA;
                sb[rank] = strideB;
                rank++;
            }
        }
        if (count == 0) {
            return new StridedArgument(new long[] {0}, new long[] {0}, new long[] {0}, 0);
        }
        if (rank == 0) {
            return new StridedArgument(new long[] {1}, new long[] {0}, new long[] {0}, 1);
        }
        if (rank > MAX_RANK) {
            throw new IllegalArgumentException("cuda backend: strided kernels take at most " + MAX_RANK
                    + " axes, and shape " + Arrays.toString(shape) + " with strides " + Arrays.toString(aStrides)
                    + (bStrides == null ? "" : " and " + Arrays.toString(bStrides)) + " still has " + rank
                    + " after merging contiguous axes");
        }
        return new StridedArgument(Arrays.copyOf(s, rank), Arrays.copyOf(sa, rank), Arrays.copyOf(sb, rank), count);
    }

    private static long[] widen(int[] values) {
        long[] wide = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            wide[i] = values[i];
        }
        return wide;
    }

    /**
     * Number of axes.
     *
     * @return the rank, 1 to {@value #MAX_RANK}
     */
    public int rank() {
        return shape.length;
    }

    /**
     * Number of elements iterated.
     *
     * @return the product of the shape
     */
    public long count() {
        return count;
    }

    /**
     * Number of distinct elements the first operand's strides reach when they are an output's
     * strides with 0 on summed axes: the product of the lengths of the axes with a stride
     * ({@code sum_to}'s {@code outCount}).
     *
     * @return the product of the shape over axes where {@code a} is not 0
     */
    public long keptCount() {
        long kept = 1;
        for (int axis = 0; axis < shape.length; axis++) {
            if (a[axis] != 0) {
                kept *= shape[axis];
            }
        }
        return kept;
    }

    /**
     * The simplified shape.
     *
     * @return a copy
     */
    public long[] shape() {
        return shape.clone();
    }

    /**
     * The first operand's strides over {@link #shape()}.
     *
     * @return a copy
     */
    public long[] a() {
        return a.clone();
    }

    /**
     * The second operand's strides over {@link #shape()}.
     *
     * @return a copy
     */
    public long[] b() {
        return b.clone();
    }

    /**
     * The struct's bytes, for a kernel parameter passed by value.
     *
     * @return {@value #BYTES} bytes, little-endian
     */
    public byte[] encode() {
        ByteBuffer bytes = ByteBuffer.allocate(BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.putInt(0, shape.length);
        for (int axis = 0; axis < shape.length; axis++) {
            bytes.putLong(SHAPE_OFFSET + 8 * axis, shape[axis]);
            bytes.putLong(A_OFFSET + 8 * axis, a[axis]);
            bytes.putLong(B_OFFSET + 8 * axis, b[axis]);
        }
        return bytes.array();
    }

    @Override
    public String toString() {
        return "Strided[shape=" + Arrays.toString(shape) + ", a=" + Arrays.toString(a) + ", b=" + Arrays.toString(b) + "]";
    }
}
