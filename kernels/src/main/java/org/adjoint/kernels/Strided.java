package org.adjoint.kernels;

/**
 * Loops over an n-dimensional index space whose operands are addressed by per-axis strides.
 *
 * <p>A stride of 0 repeats an element along that axis, which is how NumPy broadcasting and
 * {@code expand} are expressed; swapped strides express a transpose. Outputs are always
 * contiguous in the iteration shape unless stated otherwise. All shapes have the same rank
 * as their stride arrays; rank 0 means one element.
 *
 * <p>This class is the entry point; the loops live beside it, one concern each:
 * {@link StridedBinary} (binary functions and masks), {@link StridedCopy} (copies between
 * views), {@link StridedSum} (sums over axes), on {@link StridedLayout} (merging axes,
 * dealing the outer axis to threads) and {@link StridedRows} (stepping from row to row).
 */
public final class Strided {

    private Strided() {
    }

    /** A binary element-wise function. */
    public enum Binary {
        /** {@code lhs + rhs}. */
        ADD,
        /** {@code lhs - rhs}. */
        SUB,
        /** {@code lhs * rhs}. */
        MUL,
        /** {@code lhs / rhs}. */
        DIV
    }

    /**
     * {@code out[i] = function(lhs[...], rhs[...])} over {@code shape}, with {@code out}
     * contiguous.
     *
     * @param function   which function
     * @param lhs        left operand storage
     * @param lhsOffset  its first element
     * @param lhsStrides its stride per axis (0 broadcasts)
     * @param rhs        right operand storage
     * @param rhsOffset  its first element
     * @param rhsStrides its stride per axis (0 broadcasts)
     * @param out        output storage, contiguous over {@code shape}
     * @param outOffset  first output element
     * @param shape      iteration shape
     */
    public static void binary(Binary function, float[] lhs, int lhsOffset, int[] lhsStrides,
                              float[] rhs, int rhsOffset, int[] rhsStrides,
                              float[] out, int outOffset, int[] shape) {
        StridedBinary.binary(StridedBinary::scalarRow, function, lhs, lhsOffset, lhsStrides, rhs, rhsOffset,
                rhsStrides, out, outOffset, shape);
    }

    /**
     * {@code out[i] = mask[...] != 0 ? value : x[...]} over {@code shape}, with {@code out}
     * contiguous; a NaN in the mask counts as zero.
     *
     * @param x           operand storage
     * @param xOffset     its first element
     * @param xStrides    its stride per axis (0 broadcasts)
     * @param mask        mask storage
     * @param maskOffset  its first element
     * @param maskStrides its stride per axis (0 broadcasts)
     * @param value       the fill value
     * @param out         output storage, contiguous over {@code shape}
     * @param outOffset   first output element
     * @param shape       iteration shape
     */
    public static void maskedFill(float[] x, int xOffset, int[] xStrides, float[] mask, int maskOffset,
                                  int[] maskStrides, float value, float[] out, int outOffset, int[] shape) {
        StridedBinary.maskedFill(x, xOffset, xStrides, mask, maskOffset, maskStrides, value, out, outOffset, shape);
    }

    /**
     * Copies a strided view into a strided view: element {@code (i0, ...)} of {@code shape}
     * goes from {@code src[srcOffset + Σ ik·srcStrides[k]]} to
     * {@code out[outOffset + Σ ik·outStrides[k]]}; the rest of {@code out} is untouched.
     *
     * @param src        source storage
     * @param srcOffset  first source element
     * @param srcStrides source stride per axis
     * @param out        output storage
     * @param outOffset  first output element
     * @param outStrides output stride per axis
     * @param shape      iteration shape
     */
    public static void copy(float[] src, int srcOffset, int[] srcStrides, float[] out, int outOffset, int[] outStrides,
                            int[] shape) {
        StridedCopy.copy(src, srcOffset, srcStrides, out, outOffset, outStrides, shape);
    }

    /**
     * Gathers a strided view into contiguous storage: {@code out[i] = src[offset + Σ index·stride]}.
     *
     * @param src        source storage
     * @param srcOffset  its first element
     * @param srcStrides its stride per axis
     * @param out        output storage, contiguous over {@code shape}
     * @param outOffset  first output element
     * @param shape      iteration shape
     */
    public static void copy(float[] src, int srcOffset, int[] srcStrides, float[] out, int outOffset, int[] shape) {
        StridedCopy.gather(src, srcOffset, srcStrides, out, outOffset, shape);
    }

    /**
     * Sums a contiguous array of {@code shape} into a smaller output addressed by
     * {@code outStrides} (0 on every axis that is summed away). The output is overwritten.
     * Elements are added in row-major order of the source, so the result is deterministic.
     *
     * @param src        source storage, contiguous over {@code shape}
     * @param srcOffset  its first element
     * @param shape      source shape
     * @param out        output storage
     * @param outOffset  first output element
     * @param outStrides output stride per source axis (0 where the axis is reduced)
     * @param outSize    number of output elements (zeroed first)
     */
    public static void sumTo(float[] src, int srcOffset, int[] shape, float[] out, int outOffset, int[] outStrides, int outSize) {
        StridedSum.sumTo(StridedSum::scalarRow, StridedSum::scalarColumns, src, srcOffset, shape, out, outOffset, outStrides, outSize);
    }

    /**
     * The first pass of the CUDA backend's split sum ({@code sum_to_parts} in
     * {@code adjoint.cu}), on the CPU: the reference that the device kernel is tested against.
     * Output elements are numbered row-major over the kept axes (those with an output stride)
     * and each one's summed positions row-major over the summed axes; position {@code j} goes
     * to part {@code j % parts}, and each part adds its positions in increasing {@code j}, in
     * float, from 0.
     *
     * @param src        source storage, contiguous over {@code shape}
     * @param shape      source shape
     * @param outStrides output stride per source axis (0 where the axis is summed)
     * @param parts      partial sums per output element, at least 1
     * @param partsInner lay the partials out {@code [outputs][parts]} rather than {@code [parts][outputs]}
     * @param partials   output, outputs × {@code parts} elements (overwritten)
     */
    public static void sumToParts(float[] src, int[] shape, int[] outStrides, int parts, boolean partsInner,
                                  float[] partials) {
        StridedSum.sumToParts(src, shape, outStrides, parts, partsInner, partials);
    }

    /**
     * Product of the dimensions.
     *
     * @param shape dimensions
     * @return their product (1 for rank 0)
     */
    public static int size(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }
}
