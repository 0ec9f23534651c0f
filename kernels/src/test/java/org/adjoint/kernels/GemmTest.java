package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Both providers' SGEMM against a double-precision reference, and against each other bitwise;
 * how threads share a product is {@link GemmThreadsTest}'s.
 */
class GemmTest {

    private static final String[] PROVIDERS = {"scalar", "vector"};
    /** The providers, plus each vector tile by name, whichever one this machine selects. */
    private static final String[] GEMMS = {"scalar", "vector", "tile4", "tile3", "tile12"};

    private static final int[] SIZES = {0, 1, 2, 3, 7, 13, 17, 31, 33, 64};
    private static final float[] ALPHAS = {1f, -0.5f};
    private static final float[] BETAS = {0f, 1f, 0.3f};
    static final float A_SCALE = 2f;
    static final float B_SCALE = 1f;
    static final float C_SCALE = 3f;
    /** Marks C storage outside the matrix; the kernel must leave it alone. */
    private static final float SENTINEL = -12345.5f;

    /** A matrix inside larger storage; every slot outside the matrix holds {@code fill}. */
    record Stored(float[] data, int offset, int ld, int rows, int cols) {

        static Stored random(SplittableRandom random, int rows, int cols, int offset, int padding,
                             float scale, float fill) {
            int ld = cols + padding;
            float[] data = new float[offset + rows * ld + padding];
            Arrays.fill(data, fill);
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    data[offset + r * ld + c] = uniform(random, scale);
                }
            }
            return new Stored(data, offset, ld, rows, cols);
        }

        float at(int row, int col) {
            return data[offset + row * ld + col];
        }

        boolean inside(int index) {
            int relative = index - offset;
            return relative >= 0 && relative < rows * ld && relative % ld < cols;
        }
    }

    static float uniform(SplittableRandom random, float scale) {
        return (float) random.nextDouble(-scale, scale);
    }

    /** Rotating three copies of SIZES puts every value on every axis without the full cube. */
    static Stream<Arguments> shapes() {
        List<int[]> sizes = new ArrayList<>();
        for (int i = 0; i < SIZES.length; i++) {
            sizes.add(new int[] {SIZES[i], SIZES[(i + 3) % SIZES.length], SIZES[(i + 7) % SIZES.length]});
        }
        sizes.add(new int[] {64, 64, 64});
        sizes.add(new int[] {33, 31, 17});
        sizes.add(new int[] {1, 1, 1});
        sizes.add(new int[] {17, 13, 64});
        // Past one cache block in every direction (MC 64, KC 512, NC 2048), and big enough to run threaded.
        sizes.add(new int[] {261, 150, 523});
        sizes.add(new int[] {70, 2100, 40});
        // The vector provider's own paths for one row or column (Gemv) and for at most 16
        // columns (NarrowGemm), each big enough to run threaded (past 2^22 multiply-adds).
        sizes.add(new int[] {1, 2100, 2000});
        sizes.add(new int[] {2100, 1, 2000});
        sizes.add(new int[] {1603, 10, 270});
        List<Arguments> cases = new ArrayList<>();
        for (String provider : GEMMS) {
            for (int[] s : sizes) {
                for (boolean transA : new boolean[] {false, true}) {
                    for (boolean transB : new boolean[] {false, true}) {
                        cases.add(Arguments.of(provider, s[0], s[1], s[2], transA, transB));
                    }
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} m={1} n={2} k={3} transA={4} transB={5}")
    @MethodSource("shapes")
    void sgemmMatchesDoubleReference(String provider, int m, int n, int k, boolean transA, boolean transB) {
        SplittableRandom random = new SplittableRandom(31L * m + 17L * n + 7L * k + (transA ? 2 : 0) + (transB ? 1 : 0));
        for (boolean padded : new boolean[] {false, true}) {
            for (float alpha : ALPHAS) {
                for (float beta : BETAS) {
                    int padding = padded ? 3 : 0;
                    // NaN outside A and B makes any read past the matrix show up in C.
                    Stored a = transA
                            ? Stored.random(random, k, m, padded ? 5 : 0, padding, A_SCALE, Float.NaN)
                            : Stored.random(random, m, k, padded ? 5 : 0, padding, A_SCALE, Float.NaN);
                    Stored b = transB
                            ? Stored.random(random, n, k, padded ? 2 : 0, padding, B_SCALE, Float.NaN)
                            : Stored.random(random, k, n, padded ? 2 : 0, padding, B_SCALE, Float.NaN);
                    Stored c = Stored.random(random, m, n, padded ? 4 : 0, padding, C_SCALE, SENTINEL);
                    if (beta == 0f) {
                        fillMatrix(c, Float.NaN);
                    }
                    String label = "m=" + m + " n=" + n + " k=" + k + " transA=" + transA + " transB=" + transB
                            + " alpha=" + alpha + " beta=" + beta + " padded=" + padded;
                    float[] aBefore = a.data().clone();
                    float[] bBefore = b.data().clone();
                    float[] cBefore = c.data().clone();
                    sgemm(provider, transA, transB, m, n, k, alpha, a.data(), a.offset(), a.ld(), b.data(), b.offset(), b.ld(),
                            beta, c.data(), c.offset(), c.ld());
                    assertArrayEquals(aBefore, a.data(), "A modified: " + label);
                    assertArrayEquals(bBefore, b.data(), "B modified: " + label);
                    checkProduct(transA, transB, m, n, k, alpha, a, b, beta, cBefore, c, label);
                }
            }
        }
    }

    /**
     * All register tiles (the 4-row and 6-row ones of 256-bit vectors and the 12-row one, of
     * 512-bit vectors where AVX-512 is there) give the same bits: each element of C is one
     * chain of fused multiply-adds per block of k whatever the tile, also in the edge tiles,
     * so a training run does not change with the machine's tile. The shapes leave edges in both
     * directions (4 and 8 rows past the last 12-row tile run as the 12-row kernel's short
     * tiles), and k past one block (512) makes the later blocks accumulate into C. The GPT's
     * weight gradients (128 × 768 · 768 × 384, 65 × 768 · 768 × 128, threaded) read a
     * transposed A in place in the 12-row tile ({@link MicroKernel#tileColumns}, with short
     * tiles and a packed edge for the last rows) and pack it in the 4-row and 3-row ones; the
     * 4-row tile reads it in place where B's panel is at most four slivers (128 × 768 · 768 × 64
     * and the shapes of 37 and 5 columns).
     */
    @ParameterizedTest(name = "transA={0} transB={1}")
    @MethodSource("transposes")
    void allTilesGiveTheSameBits(boolean transA, boolean transB) {
        int[][] shapes = {{13, 37, 1100}, {261, 150, 523}, {25, 70, 40}, {7, 5, 3}, {64, 70, 600}, {128, 300, 40},
            {20, 37, 523}, {128, 384, 768}, {65, 128, 768}, {128, 65, 768}, {128, 128, 768}, {128, 64, 768}};
        for (int[] shape : shapes) {
            int m = shape[0];
            int n = shape[1];
            int k = shape[2];
            for (float beta : BETAS) {
                SplittableRandom random = new SplittableRandom(m * 31L + n + k);
                Stored a = transA ? Stored.random(random, k, m, 0, 0, A_SCALE, 0f) : Stored.random(random, m, k, 0, 0, A_SCALE, 0f);
                Stored b = transB ? Stored.random(random, n, k, 0, 0, B_SCALE, 0f) : Stored.random(random, k, n, 0, 0, B_SCALE, 0f);
                Stored c = Stored.random(random, m, n, 0, 0, C_SCALE, 0f);
                float[] four = c.data().clone();
                sgemm("tile4", transA, transB, m, n, k, 0.7f, a.data(), 0, a.ld(), b.data(), 0, b.ld(), beta, four, 0, n);
                for (String tile : new String[] {"tile3", "tile12"}) {
                    float[] other = c.data().clone();
                    sgemm(tile, transA, transB, m, n, k, 0.7f, a.data(), 0, a.ld(), b.data(), 0, b.ld(), beta, other, 0, n);
                    for (int i = 0; i < four.length; i++) {
                        if (Float.floatToRawIntBits(four[i]) != Float.floatToRawIntBits(other[i])) {
                            fail("m=" + m + " n=" + n + " k=" + k + " beta=" + beta + ": element (" + i / n + ", " + i % n
                                    + ") is " + four[i] + " with the 4-row tile and " + other[i] + " with " + tile);
                        }
                    }
                }
            }
        }
    }

    /**
     * The 12-row tile has each block of C written over before its first block of k
     * ({@link PackedGemm}'s prewrite, for rows of at least {@link PackedGemm#PREWRITE_STRIDE}
     * values): only the block's own values, so that C's padding keeps its sentinels, a NaN
     * already in C does not survive {@code beta = 0}, and the threads' blocks (rows cut in
     * blocks, or one block of rows in runs of slivers) do not clear each other's finished tiles.
     */
    @ParameterizedTest(name = "transA={0} transB={1}")
    @MethodSource("transposes")
    void cWrittenAheadOfTheTwelveRowTileIsOnlyItsOwnBlock(boolean transA, boolean transB) {
        // The last has several panels of columns (NC is at most 2048).
        int[][] shapes = {{200, 300, 80}, {128, 512, 96}, {130, 270, 600}, {700, 260, 40}, {60, 2300, 40}};
        for (int[] shape : shapes) {
            int m = shape[0];
            int n = shape[1];
            int k = shape[2];
            for (float beta : new float[] {0f, 1f}) {
                SplittableRandom random = new SplittableRandom(m * 13L + n * 5L + k);
                Stored a = transA ? Stored.random(random, k, m, 3, 2, A_SCALE, Float.NaN)
                        : Stored.random(random, m, k, 3, 2, A_SCALE, Float.NaN);
                Stored b = transB ? Stored.random(random, n, k, 1, 2, B_SCALE, Float.NaN)
                        : Stored.random(random, k, n, 1, 2, B_SCALE, Float.NaN);
                Stored c = Stored.random(random, m, n, 7, 5, C_SCALE, SENTINEL);
                if (beta == 0f) {
                    fillMatrix(c, Float.NaN);
                }
                float[] cBefore = c.data().clone();
                float[] four = c.data().clone();
                sgemm("tile4", transA, transB, m, n, k, 0.7f, a.data(), a.offset(), a.ld(), b.data(), b.offset(),
                        b.ld(), beta, four, c.offset(), c.ld());
                // The tile as this CPU chooses, and with C written ahead whatever the CPU.
                for (String tile : new String[] {"tile12", "tile12-writing-ahead"}) {
                    Stored twelve = new Stored(cBefore.clone(), c.offset(), c.ld(), c.rows(), c.cols());
                    sgemm(tile, transA, transB, m, n, k, 0.7f, a.data(), a.offset(), a.ld(), b.data(), b.offset(),
                            b.ld(), beta, twelve.data(), twelve.offset(), twelve.ld());
                    String label = tile + " m=" + m + " n=" + n + " k=" + k + " beta=" + beta;
                    checkProduct(transA, transB, m, n, k, 0.7f, a, b, beta, cBefore, twelve, label);
                    for (int i = 0; i < four.length; i++) {
                        if (Float.floatToRawIntBits(four[i]) != Float.floatToRawIntBits(twelve.data()[i])) {
                            fail(label + ": value " + i + " is " + four[i] + " with the 4-row tile and "
                                    + twelve.data()[i] + " with the 12-row one");
                        }
                    }
                }
            }
        }
    }

    /**
     * The 12-row tile's narrow tile ({@link MicroKernel#tileNarrow}) gives each of its columns
     * the bits of the full tile, from packed and in-place A, overwriting and accumulating, and
     * leaves C's other columns alone.
     */
    @Test
    void narrowTileHasTheFullTilesBitsInItsColumns() {
        MicroKernel tile = VectorMicroKernel12.INSTANCE;
        int mr = tile.rows();
        int nr = tile.columns();
        int narrow = tile.narrowColumns();
        int kc = 37;
        int ldc = nr + 3;
        SplittableRandom random = new SplittableRandom(5);
        float[] a = new float[mr * kc];
        float[] b = new float[nr * kc];
        fillRandom(random, a, A_SCALE);
        fillRandom(random, b, B_SCALE);
        // The same A stored row by row, for the in-place reading.
        float[] rows = new float[mr * kc];
        for (int r = 0; r < mr; r++) {
            for (int p = 0; p < kc; p++) {
                rows[r * kc + p] = a[p * mr + r];
            }
        }
        for (boolean accumulate : new boolean[] {false, true}) {
            float[] start = new float[mr * ldc];
            fillRandom(random, start, C_SCALE);
            float[] full = start.clone();
            tile.tile(kc, a, 0, b, 0, 0.7f, full, 0, ldc, accumulate);
            float[] packed = start.clone();
            tile.tileNarrow(kc, a, 0, 1, mr, b, 0, 0.7f, packed, 0, ldc, accumulate);
            float[] inPlace = start.clone();
            tile.tileNarrow(kc, rows, 0, kc, 1, b, 0, 0.7f, inPlace, 0, ldc, accumulate);
            for (int i = 0; i < start.length; i++) {
                float expected = i % ldc < narrow ? full[i] : start[i];
                String where = "accumulate=" + accumulate + " (" + i / ldc + ", " + i % ldc + ")";
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(packed[i]), "packed " + where);
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(inPlace[i]), "in place " + where);
            }
        }
    }

    static Stream<Arguments> transposes() {
        return Stream.of(Arguments.of(false, false), Arguments.of(false, true), Arguments.of(true, false),
                Arguments.of(true, true));
    }

    static Stream<Arguments> batchedCases() {
        List<Arguments> cases = new ArrayList<>();
        for (String provider : PROVIDERS) {
            for (boolean transA : new boolean[] {false, true}) {
                for (boolean transB : new boolean[] {false, true}) {
                    for (String shared : new String[] {"none", "A", "B"}) {
                        cases.add(Arguments.of(provider, transA, transB, shared));
                    }
                }
            }
        }
        return cases.stream();
    }

    /**
     * A batch sharing one A at sizes that take the packed path (several row blocks, several
     * blocks of k, edge tiles: a convolution's per-image products) gives every entry the bits
     * of {@code sgemm} on that entry alone, whoever runs it.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("providers")
    void sgemmBatchedWithASharedAGivesEachEntryItsOwnBits(String provider) {
        KernelProvider kernels = KernelProvider.named(provider);
        int[][] sizes = {{64, 196, 288}, {20, 40, 600}, {260, 33, 40}, {13, 17, 5}};
        SplittableRandom random = new SplittableRandom(11);
        int batch = 5;
        for (int[] s : sizes) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            for (boolean transA : new boolean[] {false, true}) {
                for (boolean transB : new boolean[] {false, true}) {
                    for (float beta : BETAS) {
                        float[] a = new float[3 + m * k];
                        float[] b = new float[1 + batch * k * n];
                        float[] c = new float[2 + batch * (m * n + 1)];
                        fillRandom(random, a, A_SCALE);
                        fillRandom(random, b, B_SCALE);
                        fillRandom(random, c, C_SCALE);
                        float[] expected = c.clone();
                        for (int p = 0; p < batch; p++) {
                            kernels.sgemm(transA, transB, m, n, k, 0.75f, a, 3, transA ? m : k, b, 1 + p * k * n,
                                    transB ? k : n, beta, expected, 2 + p * (m * n + 1), n);
                        }
                        kernels.sgemmBatched(transA, transB, batch, m, n, k, 0.75f, a, 3, 0, b, 1, k * n, beta, c, 2,
                                m * n + 1);
                        assertArrayEquals(expected, c, provider + " m=" + m + " n=" + n + " k=" + k + " transA="
                                + transA + " transB=" + transB + " beta=" + beta);
                    }
                }
            }
        }
    }

    private static void fillRandom(SplittableRandom random, float[] values, float scale) {
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextDouble(-1, 1) * scale);
        }
    }

    @ParameterizedTest(name = "{0} transA={1} transB={2} shared={3}")
    @MethodSource("batchedCases")
    void sgemmBatchedMatchesPerEntryReference(String provider, boolean transA, boolean transB, String shared) {
        SplittableRandom random = new SplittableRandom(shared.hashCode() * 4L + (transA ? 2 : 0) + (transB ? 1 : 0));
        int[][] sizes = {{3, 7, 13}, {13, 1, 17}, {2, 33, 0}};
        int batch = 3;
        for (int[] s : sizes) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            for (float beta : BETAS) {
                float alpha = -0.5f;
                int aRows = transA ? k : m;
                int aCols = transA ? m : k;
                int bRows = transB ? n : k;
                int bCols = transB ? k : n;
                int aStride = shared.equals("A") ? 0 : aRows * aCols + 2;
                int bStride = shared.equals("B") ? 0 : bRows * bCols + 1;
                int cStride = m * n + 3;
                int aOffset = 4;
                int bOffset = 1;
                int cOffset = 2;
                float[] a = batchStorage(random, aOffset, aStride, aRows * aCols, batch, A_SCALE, Float.NaN);
                float[] b = batchStorage(random, bOffset, bStride, bRows * bCols, batch, B_SCALE, Float.NaN);
                float[] c = batchStorage(random, cOffset, cStride, m * n, batch, C_SCALE, SENTINEL);
                for (int p = 0; p < batch && beta == 0f; p++) {
                    Arrays.fill(c, cOffset + p * cStride, cOffset + p * cStride + m * n, Float.NaN);
                }
                float[] cBefore = c.clone();
                KernelProvider.named(provider).sgemmBatched(transA, transB, batch, m, n, k, alpha, a, aOffset, aStride, b, bOffset, bStride,
                        beta, c, cOffset, cStride);
                List<Stored> outputs = new ArrayList<>();
                for (int p = 0; p < batch; p++) {
                    Stored aEntry = new Stored(a, aOffset + p * aStride, aCols, aRows, aCols);
                    Stored bEntry = new Stored(b, bOffset + p * bStride, bCols, bRows, bCols);
                    Stored cEntry = new Stored(c, cOffset + p * cStride, n, m, n);
                    outputs.add(cEntry);
                    checkMatrix(transA, transB, m, n, k, alpha, aEntry, bEntry, beta, cBefore, cEntry,
                            "batch entry " + p + " m=" + m + " n=" + n + " k=" + k + " beta=" + beta);
                }
                for (int index = 0; index < c.length; index++) {
                    final int i = index;
                    if (outputs.stream().noneMatch(entry -> entry.inside(i))) {
                        assertEquals(cBefore[i], c[i], "C storage between entries changed at " + i);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("providers")
    void alphaZeroOnlyScalesC(String provider) {
        SplittableRandom random = new SplittableRandom(5);
        Stored a = Stored.random(random, 4, 3, 0, 0, A_SCALE, 0f);
        Stored b = Stored.random(random, 3, 5, 0, 0, B_SCALE, 0f);
        Stored c = Stored.random(random, 4, 5, 0, 0, C_SCALE, 0f);
        float[] cBefore = c.data().clone();
        KernelProvider.named(provider).sgemm(false, false, 4, 5, 3, 0f, a.data(), 0, 3, b.data(), 0, 5, 0.3f, c.data(), 0, 5);
        for (int i = 0; i < cBefore.length; i++) {
            assertEquals(0.3f * cBefore[i], c.data()[i], 1e-6f, "element " + i);
        }
    }

    private static void sgemm(String gemm, boolean transA, boolean transB, int m, int n, int k, float alpha,
                              float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
                              float beta, float[] c, int cOffset, int ldc) {
        MicroKernel tile = switch (gemm) {
            case "tile4" -> VectorMicroKernel.INSTANCE;
            case "tile3" -> VectorMicroKernel3.INSTANCE;
            case "tile12" -> VectorMicroKernel12.INSTANCE;
            case "tile12-writing-ahead" -> VectorMicroKernel12.WRITING_AHEAD;
            default -> null;
        };
        if (tile == null) {
            KernelProvider.named(gemm).sgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb,
                    beta, c, cOffset, ldc);
        } else {
            PackedGemm.sgemm(tile, transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
        }
    }

    static Stream<String> providers() {
        return Stream.of(PROVIDERS);
    }


    private static float[] batchStorage(SplittableRandom random, int offset, int stride, int size, int batch,
                                        float scale, float fill) {
        int entries = stride == 0 ? 1 : batch;
        float[] data = new float[offset + Math.max(stride, size) * entries + 2];
        Arrays.fill(data, fill);
        for (int p = 0; p < entries; p++) {
            for (int e = 0; e < size; e++) {
                data[offset + p * stride + e] = uniform(random, scale);
            }
        }
        return data;
    }

    private static void fillMatrix(Stored matrix, float value) {
        for (int r = 0; r < matrix.rows(); r++) {
            int start = matrix.offset() + r * matrix.ld();
            Arrays.fill(matrix.data(), start, start + matrix.cols(), value);
        }
    }

    private static void checkProduct(boolean transA, boolean transB, int m, int n, int k, float alpha, Stored a,
                                     Stored b, float beta, float[] cBefore, Stored c, String label) {
        checkMatrix(transA, transB, m, n, k, alpha, a, b, beta, cBefore, c, label);
        for (int index = 0; index < c.data().length; index++) {
            if (!c.inside(index)) {
                assertEquals(cBefore[index], c.data()[index], "C padding changed at " + index + ": " + label);
            }
        }
    }

    private static void checkMatrix(boolean transA, boolean transB, int m, int n, int k, float alpha, Stored a,
                                    Stored b, float beta, float[] cBefore, Stored c, String label) {
        // Float accumulation error grows linearly with k; the beta term adds one rounding.
        double tolerance = 1e-5 * k * Math.abs(alpha) * A_SCALE * B_SCALE + 1e-6 * Math.abs(beta) * C_SCALE + 1e-6;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double dot = 0.0;
                for (int p = 0; p < k; p++) {
                    double lhs = transA ? a.at(p, i) : a.at(i, p);
                    double rhs = transB ? b.at(j, p) : b.at(p, j);
                    dot += lhs * rhs;
                }
                int slot = c.offset() + i * c.ld() + j;
                double expected = alpha * dot + (beta == 0f ? 0.0 : beta * (double) cBefore[slot]);
                float actual = c.data()[slot];
                if (!(Math.abs(actual - expected) <= tolerance)) {
                    fail("C[" + i + "][" + j + "] expected " + expected + " but was " + actual + " (tolerance "
                            + tolerance + "): " + label);
                }
            }
        }
    }
}
