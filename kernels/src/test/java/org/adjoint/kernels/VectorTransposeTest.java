package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link VectorTranspose} moves every value where the scalar transpose does, and touches
 * nothing else: attention's transposed keys and values, and GEMM slivers of a row-major A.
 */
class VectorTransposeTest {

    @ParameterizedTest
    @CsvSource({"8, 8", "64, 32", "64, 64", "1, 1", "7, 9", "9, 7", "17, 23", "16, 5", "5, 16", "0, 8", "8, 0", "33, 128"})
    void theSameValuesAsTheScalarTranspose(int rows, int cols) {
        SplittableRandom random = new SplittableRandom(rows * 131L + cols);
        int stride = cols + 3;
        int srcOffset = 5;
        float[] src = new float[srcOffset + rows * stride + 4];
        for (int i = 0; i < src.length; i++) {
            src[i] = (float) random.nextDouble(-1, 1);
        }
        int ld = rows + 2;
        int dstOffset = 3;
        float[] expected = new float[dstOffset + cols * ld + 5];
        java.util.Arrays.fill(expected, -7f);
        float[] actual = expected.clone();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                expected[dstOffset + c * ld + r] = src[srcOffset + r * stride + c];
            }
        }
        VectorTranspose.transpose(src, srcOffset, stride, rows, cols, actual, dstOffset, ld);
        assertArrayEquals(expected, actual);
        float[] scalar = new float[expected.length];
        java.util.Arrays.fill(scalar, -7f);
        AttentionKernels.SCALAR.packColumns(src, srcOffset, stride, rows, cols, scalar, ld);
        float[] vector = new float[expected.length];
        java.util.Arrays.fill(vector, -7f);
        VectorAttentionLanes.INSTANCE.packColumns(src, srcOffset, stride, rows, cols, vector, ld);
        // The attention's row operations write from dst[0]: the two providers against each other.
        assertArrayEquals(scalar, vector);
    }

    @ParameterizedTest
    @CsvSource({"12, 0", "12, 7", "12, 8", "12, 33", "12, 512", "8, 17", "16, 24", "9, 16"})
    void aSliverOfAPacksAsTheScalarLoopDoes(int rows, int kc) {
        SplittableRandom random = new SplittableRandom(rows * 31L + kc);
        int lda = kc + 5;
        int at = 3;
        float[] a = new float[at + rows * lda + 2];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextDouble(-1, 1);
        }
        int base = 4;
        float[] expected = new float[base + rows * kc + 3];
        java.util.Arrays.fill(expected, -7f);
        float[] actual = expected.clone();
        for (int r = 0; r < rows; r++) {
            for (int p = 0; p < kc; p++) {
                expected[base + p * rows + r] = a[at + r * lda + p];
            }
        }
        VectorTranspose.packSliver(a, at, lda, rows, kc, actual, base);
        assertArrayEquals(expected, actual);
        if (rows == VectorMicroKernel12.INSTANCE.rows()) {
            float[] viaKernel = new float[expected.length];
            java.util.Arrays.fill(viaKernel, -7f);
            VectorMicroKernel12.INSTANCE.packRows(a, at, lda, kc, viaKernel, base);
            assertArrayEquals(expected, viaKernel);
        }
    }
}
