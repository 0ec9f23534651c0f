package org.adjoint.backend;

/**
 * Element-wise operations on views that start at an offset in their storage, composed from
 * the core: a binary function of two such operands, and filling masked positions with a value
 * (a strided copy, two steps and a gather that picks, for each element, either the operand or
 * the value, so that the result is exactly the value where the mask is set even when the
 * operand is infinite or NaN, which {@code x·(1 − m) + v·m} would not give).
 */
public interface StridedOps extends BackendCore {

    /**
     * {@link #binary(BinaryOp, Buffer, int[], Buffer, int[], Buffer, int[]) binary} with operands that
     * start at an offset in their buffers (views: a narrow, a slice of a split). The default
     * calls that method directly when both offsets are 0, and otherwise first copies the range
     * of the buffer that an offset operand reaches into a temporary.
     *
     * @param op         the function
     * @param lhs        left operand
     * @param lhsOffset  its first element
     * @param lhsStrides its stride per axis of {@code shape}
     * @param rhs        right operand
     * @param rhsOffset  its first element
     * @param rhsStrides its stride per axis of {@code shape}
     * @param out        output, contiguous over {@code shape} (not an operand that starts at an offset)
     * @param shape      iteration shape
     */
    default void binary(BinaryOp op, Buffer lhs, long lhsOffset, int[] lhsStrides, Buffer rhs, long rhsOffset,
                        int[] rhsStrides, Buffer out, int[] shape) {
        if (lhsOffset == 0 && rhsOffset == 0) {
            binary(op, lhs, lhsStrides, rhs, rhsStrides, out, shape);
            return;
        }
        long count = 1;
        long lhsReach = 1;
        long rhsReach = 1;
        for (int axis = 0; axis < shape.length; axis++) {
            count *= shape[axis];
            lhsReach += (long) (shape[axis] - 1) * lhsStrides[axis];
            rhsReach += (long) (shape[axis] - 1) * rhsStrides[axis];
        }
        if (count == 0) {
            return;
        }
        Buffer left = lhsOffset == 0 ? lhs : allocate(lhsReach);
        Buffer right = rhsOffset == 0 ? rhs : allocate(rhsReach);
        try {
            if (left != lhs) {
                copyStrided(lhs, lhsOffset, new int[] {1}, left, 0, new int[] {Math.toIntExact(lhsReach)});
            }
            if (right != rhs) {
                copyStrided(rhs, rhsOffset, new int[] {1}, right, 0, new int[] {Math.toIntExact(rhsReach)});
            }
            binary(op, left, lhsStrides, right, rhsStrides, out, shape);
        } finally {
            if (left != lhs) {
                release(left);
            }
            if (right != rhs) {
                release(right);
            }
        }
    }

    /**
     * {@code out = mask != 0 ? value : x} element-wise over {@code shape}, both operands
     * addressed by an offset and strides (0 on broadcast axes); {@code out} is contiguous. A
     * NaN in the mask counts as zero.
     *
     * <p>The default builds {@code [x, value]} as two rows of one buffer, turns the mask into
     * row numbers ({@code step(m) + step(−m)}) and gathers: three temporaries, about three
     * times the output.
     *
     * @param x           the operand
     * @param xOffset     its first element
     * @param xStrides    its stride per axis of {@code shape}
     * @param mask        the mask
     * @param maskOffset  its first element
     * @param maskStrides its stride per axis of {@code shape}
     * @param value       the fill value
     * @param out         output, contiguous over {@code shape}
     * @param shape       iteration shape
     */
    default void maskedFill(Buffer x, long xOffset, int[] xStrides, Buffer mask, long maskOffset, int[] maskStrides,
                            float value, Buffer out, int[] shape) {
        long count = 1;
        for (int d : shape) {
            count *= d;
        }
        if (count == 0) {
            return;
        }
        int n = Math.toIntExact(count);
        Buffer rows = allocate(2 * count);
        Buffer rowOf = allocate(count);
        Buffer negative = allocate(count);
        try {
            fill(rows, value);
            copyStrided(x, xOffset, xStrides, rows, 0, shape);
            copyStrided(mask, maskOffset, maskStrides, negative, 0, shape);
            unary(UnaryOp.STEP, 0f, negative, rowOf);
            unary(UnaryOp.NEG, 0f, negative, negative);
            unary(UnaryOp.STEP, 0f, negative, negative);
            int[] flat = {n};
            int[] unit = {1};
            binary(BinaryOp.ADD, rowOf, unit, negative, unit, rowOf, flat);
            gather(rows, 1, 2, n, rowOf, 1, out);
        } finally {
            release(rows);
            release(rowOf);
            release(negative);
        }
    }
}
