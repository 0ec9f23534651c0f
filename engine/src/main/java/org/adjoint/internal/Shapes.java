package org.adjoint.internal;

import java.math.BigInteger;
import java.util.Arrays;

/** Shape arithmetic: sizes, strides, broadcasting and axis normalisation. */
public final class Shapes {

    /**
     * 2<sup>24</sup>: the integers from 0 up to here are exact as float32, the form in which
     * indices and class labels reach the backends' default kernels.
     */
    public static final int FLOAT_EXACT_INTEGERS = 1 << 24;

    private Shapes() {
    }

    /**
     * Number of elements.
     *
     * @param shape dimensions
     * @return their product as a long (1 for rank 0)
     */
    public static long size(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /**
     * Row-major strides of a contiguous array.
     *
     * @param shape dimensions
     * @return the stride of each axis in elements
     */
    public static int[] contiguousStrides(int[] shape) {
        int[] strides = new int[shape.length];
        int s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= shape[i];
        }
        return strides;
    }

    /**
     * The shape that NumPy broadcasting gives two operands.
     *
     * @param op  operation name for the error message
     * @param lhs left shape
     * @param rhs right shape
     * @return the broadcast shape
     * @throws IllegalArgumentException when the shapes are incompatible
     */
    public static int[] broadcast(String op, int[] lhs, int[] rhs) {
        if (Arrays.equals(lhs, rhs)) {
            return lhs.clone();
        }
        int rank = Math.max(lhs.length, rhs.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int l = dimFromRight(lhs, rank - 1 - i);
            int r = dimFromRight(rhs, rank - 1 - i);
            if (l != r && l != 1 && r != 1) {
                throw new IllegalArgumentException(op + ": cannot broadcast " + str(lhs) + " with " + str(rhs)
                        + " (axis " + i + " of the result: " + l + " vs " + r + ")");
            }
            out[i] = l == 1 ? r : l;
        }
        return out;
    }

    private static int dimFromRight(int[] shape, int fromRight) {
        int i = shape.length - 1 - fromRight;
        return i >= 0 ? shape[i] : 1;
    }

    /**
     * Whether {@code from} broadcasts to {@code to} (right-aligned, each axis equal or 1).
     *
     * @param from source shape
     * @param to   target shape
     * @return true when broadcasting is possible
     */
    public static boolean broadcastsTo(int[] from, int[] to) {
        if (from.length > to.length) {
            return false;
        }
        int shift = to.length - from.length;
        for (int i = 0; i < from.length; i++) {
            if (from[i] != 1 && from[i] != to[i + shift]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Strides that read a contiguous array of shape {@code from} as if it had shape {@code to}:
     * 0 on axes that are broadcast.
     *
     * @param from a shape that broadcasts to {@code to}
     * @param to   the iteration shape
     * @return one stride per axis of {@code to}
     */
    public static int[] broadcastStrides(int[] from, int[] to) {
        int[] own = contiguousStrides(from);
        int[] strides = new int[to.length];
        int shift = to.length - from.length;
        for (int i = 0; i < from.length; i++) {
            strides[i + shift] = from[i] == 1 && to[i + shift] != 1 ? 0 : own[i];
        }
        return strides;
    }

    /**
     * Normalises a possibly negative axis.
     *
     * @param op    operation name for the error message
     * @param axis  axis in {@code [-rank, rank)}
     * @param shape the shape it indexes
     * @return the axis in {@code [0, rank)}
     * @throws IllegalArgumentException when out of range
     */
    public static int axis(String op, int axis, int[] shape) {
        int rank = shape.length;
        if (axis < -rank || axis >= rank) {
            throw new IllegalArgumentException(op + ": axis " + axis + " is out of range for shape " + str(shape)
                    + " (rank " + rank + ")");
        }
        return axis < 0 ? axis + rank : axis;
    }

    /**
     * Product of the axes before {@code axis}.
     *
     * @param shape dimensions
     * @param axis  a normalised axis
     * @return the outer size
     */
    public static int outer(int[] shape, int axis) {
        int n = 1;
        for (int i = 0; i < axis; i++) {
            n *= shape[i];
        }
        return n;
    }

    /**
     * Product of the axes after {@code axis}.
     *
     * @param shape dimensions
     * @param axis  a normalised axis
     * @return the inner size
     */
    public static int inner(int[] shape, int axis) {
        int n = 1;
        for (int i = axis + 1; i < shape.length; i++) {
            n *= shape[i];
        }
        return n;
    }

    /**
     * The shape with {@code axis} set to 1.
     *
     * @param shape dimensions
     * @param axis  a normalised axis
     * @return a new shape
     */
    public static int[] keepDim(int[] shape, int axis) {
        int[] out = shape.clone();
        out[axis] = 1;
        return out;
    }

    /**
     * The shape without {@code axis}.
     *
     * @param shape dimensions
     * @param axis  a normalised axis
     * @return a new shape of rank one less
     */
    public static int[] dropAxis(int[] shape, int axis) {
        int[] out = new int[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (i != axis) {
                out[j++] = shape[i];
            }
        }
        return out;
    }

    /**
     * Checks a requested shape: no negative dimension, and an element count that fits an array.
     *
     * @param op    operation name for the error message
     * @param shape the shape
     * @return a copy of {@code shape}
     */
    public static int[] checked(String op, int[] shape) {
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(op + ": negative dimension in shape " + str(shape));
            }
        }
        if (Arrays.stream(shape).noneMatch(d -> d == 0)) {
            // Stops as soon as the count passes the limit, so a product beyond a long cannot wrap round.
            long n = 1;
            for (int d : shape) {
                n *= d;
                if (n > Integer.MAX_VALUE - 8) {
                    BigInteger count = BigInteger.ONE;
                    for (int each : shape) {
                        count = count.multiply(BigInteger.valueOf(each));
                    }
                    throw new IllegalArgumentException(op + ": shape " + str(shape) + " has " + count
                            + " elements, more than one buffer can hold (" + (Integer.MAX_VALUE - 8) + ")");
                }
            }
        }
        return shape.clone();
    }

    /**
     * Formats a shape as {@code [2, 3]}.
     *
     * @param shape dimensions
     * @return the text
     */
    public static String str(int[] shape) {
        return Arrays.toString(shape);
    }
}
