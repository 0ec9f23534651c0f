package org.adjoint.backend;

/**
 * Filling masked positions with a value, composed from the core: a strided copy, two steps
 * and a gather that picks, for each element, either the operand or the value, so that the
 * result is exactly the value where the mask is set even when the operand is infinite or NaN
 * (which {@code x·(1 − m) + v·m} would not give).
 */
public interface MaskOps extends BackendCore {

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
