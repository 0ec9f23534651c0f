package org.adjoint.kernels;

import java.util.Arrays;

/**
 * The copies between strided views behind {@link Strided#copy}: into another strided view,
 * or gathered into contiguous storage (how {@code contiguous}, {@code permute} and
 * {@code expand} materialise).
 */
final class StridedCopy {

    private StridedCopy() {
    }

    /** {@link Strided#copy(float[], int, int[], float[], int, int[], int[])}: strided to strided. */
    static void copy(float[] src, int srcOffset, int[] srcStrides, float[] out, int outOffset, int[] outStrides,
                     int[] shape) {
        if (shape.length == 0) {
            out[outOffset] = src[srcOffset];
            return;
        }
        if (Strided.size(shape) == 0) {
            return;
        }
        StridedLayout.overOuterAxis(shape, (first, part) -> copyWalk(src, srcOffset + first * srcStrides[0],
                srcStrides, out, outOffset + first * outStrides[0], outStrides, part));
    }

    private static void copyWalk(float[] src, int srcOffset, int[] srcStrides, float[] out, int outOffset,
                                 int[] outStrides, int[] shape) {
        int rank = shape.length;
        int inner = shape[rank - 1];
        int innerStride = srcStrides[rank - 1];
        int outStride = outStrides[rank - 1];
        StridedRows at = new StridedRows(shape, srcStrides, srcOffset, outStrides, outOffset);
        do {
            int srcPos = at.first;
            int outPos = at.second;
            if (innerStride == 1 && outStride == 1) {
                System.arraycopy(src, srcPos, out, outPos, inner);
            } else {
                for (int i = 0; i < inner; i++) {
                    out[outPos + i * outStride] = src[srcPos + i * innerStride];
                }
            }
        } while (at.next());
    }

    /** {@link Strided#copy(float[], int, int[], float[], int, int[])}: strided to contiguous. */
    static void gather(float[] src, int srcOffset, int[] srcStrides, float[] out, int outOffset, int[] shape) {
        if (shape.length == 0) {
            out[outOffset] = src[srcOffset];
            return;
        }
        int total = Strided.size(shape);
        if (total == 0) {
            return;
        }
        int unit = total / shape[0];
        StridedLayout.overOuterAxis(shape, (first, part) -> gatherWalk(src, srcOffset + first * srcStrides[0],
                srcStrides, out, outOffset + first * unit, part));
    }

    private static void gatherWalk(float[] src, int srcOffset, int[] srcStrides, float[] out, int outOffset,
                                   int[] shape) {
        int rank = shape.length;
        int inner = shape[rank - 1];
        int innerStride = srcStrides[rank - 1];
        StridedRows at = new StridedRows(shape, srcStrides, srcOffset);
        int outPos = outOffset;
        do {
            int srcPos = at.first;
            if (innerStride == 1) {
                System.arraycopy(src, srcPos, out, outPos, inner);
            } else if (innerStride == 0) {
                Arrays.fill(out, outPos, outPos + inner, src[srcPos]);
            } else {
                for (int i = 0; i < inner; i++) {
                    out[outPos + i] = src[srcPos + i * innerStride];
                }
            }
            outPos += inner;
        } while (at.next());
    }
}
