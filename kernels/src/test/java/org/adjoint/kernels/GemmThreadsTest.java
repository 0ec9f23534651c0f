package org.adjoint.kernels;

import static org.adjoint.kernels.GemmTest.A_SCALE;
import static org.adjoint.kernels.GemmTest.B_SCALE;
import static org.adjoint.kernels.GemmTest.C_SCALE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

import org.adjoint.kernels.GemmTest.Stored;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * How threads share one {@link PackedGemm} product: the cut ({@link GemmPlan}), who packs B,
 * the threaded product's bits against the serial one's, and a part that fails.
 */
class GemmThreadsTest {

    @BeforeAll
    static void regionsGetTheirThreads() {
        CompilerLoadTest.assertRegionsGetTheirThreads();
    }


    /**
     * A part of a threaded product that fails (here the packing of B, from its second call on,
     * whichever thread makes it) leaves units that will never be done: the parts waiting for
     * them stop and the product throws the failure itself, rather than waiting for ever; the
     * next product is right.
     */
    @Test
    void aPartThatFailsReleasesThePartsWaitingForIt() {
        assumeTrue(Parallel.THREADS > 1, "one kernel thread: no part waits for another");
        // k past one block (KC 512), so that B is packed at least twice in every cut, threaded or not.
        int[][] shapes = {{300, 512, 600}, {128, 384, 768}, {768, 128, 600}, {1030, 300, 530}};
        for (MicroKernel tile : new MicroKernel[] {VectorMicroKernel.INSTANCE, VectorMicroKernel12.INSTANCE}) {
            for (int[] shape : shapes) {
                int m = shape[0];
                int n = shape[1];
                int k = shape[2];
                SplittableRandom random = new SplittableRandom(m + n + k);
                Stored a = Stored.random(random, m, k, 0, 0, A_SCALE, 0f);
                Stored b = Stored.random(random, k, n, 0, 0, B_SCALE, 0f);
                PackedGemm.BSource dense = PackedGemm.dense(tile, false, b.data(), 0, n);
                AtomicInteger calls = new AtomicInteger();
                PackedGemm.BSource failing = (pc, kc, jc, nc, first, end, pack, base) -> {
                    if (calls.incrementAndGet() >= 2) {
                        throw new IllegalArgumentException("packing B failed on purpose");
                    }
                    dense.pack(pc, kc, jc, nc, first, end, pack, base);
                };
                String label = tile.getClass().getSimpleName() + " m=" + m + " n=" + n + " k=" + k;
                IllegalArgumentException thrown = assertTimeoutPreemptively(Duration.ofSeconds(30),
                        () -> assertThrows(IllegalArgumentException.class, () -> PackedGemm.sgemm(tile, false, m, n, k,
                                1f, a.data(), 0, k, failing, 0f, new float[m * n], 0, n)), label);
                assertEquals("packing B failed on purpose", thrown.getMessage(), label);
                float[] c = new float[m * n];
                PackedGemm.sgemm(tile, false, m, n, k, 1f, a.data(), 0, k, dense, 0f, c, 0, n);
                float[] serial = new float[m * n];
                PackedGemm.sgemmSerial(tile, false, m, n, k, 1f, a.data(), 0, k, dense, 0f, serial, 0, n);
                assertArrayEquals(serial, c, "the product after the failure: " + label);
            }
        }
    }

    /**
     * The threads' cut of a product ({@link GemmPlan#cut}: blocks of rows, runs of slivers)
     * changes only who computes which tiles: at the GPT's shapes, where the cut runs slivers
     * side by side (128 rows) or leaves a one-column last sliver (65 columns), the threaded
     * product has the bits of the serial one, for every tile.
     */
    @ParameterizedTest(name = "transA={0} transB={1}")
    @MethodSource("org.adjoint.kernels.GemmTest#transposes")
    void threadedProductsHaveTheSerialBits(boolean transA, boolean transB) {
        // The last two have rows enough for a private panel a thread (GemmPlan.PRIVATE_PANEL_ROWS)
        // over two blocks of k, and over two panels of columns.
        int[][] shapes = {{128, 384, 768}, {128, 128, 768}, {128, 512, 768}, {128, 65, 768}, {512, 128, 768},
            {768, 65, 128}, {768, 128, 512}, {100, 300, 700}, {1030, 70, 600}, {1030, 2100, 9}};
        for (MicroKernel tile : new MicroKernel[] {VectorMicroKernel.INSTANCE, VectorMicroKernel3.INSTANCE,
            VectorMicroKernel12.INSTANCE}) {
            for (int[] shape : shapes) {
                int m = shape[0];
                int n = shape[1];
                int k = shape[2];
                for (float beta : new float[] {0f, 0.3f}) {
                    SplittableRandom random = new SplittableRandom(m * 7L + n * 3L + k);
                    Stored a = transA ? Stored.random(random, k, m, 0, 0, A_SCALE, 0f) : Stored.random(random, m, k, 0, 0, A_SCALE, 0f);
                    Stored b = transB ? Stored.random(random, n, k, 0, 0, B_SCALE, 0f) : Stored.random(random, k, n, 0, 0, B_SCALE, 0f);
                    Stored c = Stored.random(random, m, n, 0, 0, C_SCALE, 0f);
                    float[] threaded = c.data().clone();
                    PackedGemm.sgemm(tile, transA, transB, m, n, k, 0.7f, a.data(), 0, a.ld(), b.data(), 0, b.ld(), beta,
                            threaded, 0, n);
                    float[] serial = c.data().clone();
                    PackedGemm.sgemmSerial(tile, transA, m, n, k, 0.7f, a.data(), 0, a.ld(),
                            PackedGemm.dense(tile, transB, b.data(), 0, b.ld()), beta, serial, 0, n);
                    for (int i = 0; i < serial.length; i++) {
                        if (Float.floatToRawIntBits(serial[i]) != Float.floatToRawIntBits(threaded[i])) {
                            fail(tile.getClass().getSimpleName() + " m=" + m + " n=" + n + " k=" + k + " beta=" + beta
                                    + ": element (" + i / n + ", " + i % n + ") is " + serial[i] + " serial and "
                                    + threaded[i] + " threaded");
                        }
                    }
                }
            }
        }
    }

    /**
     * A product's parts run one after another on one thread, as when the caller takes the part
     * of a worker that has not begun ({@link Parallel}), in either order and for a cut of up to
     * four threads: private and shared panels of B, one and two blocks of k, one and several
     * panels of columns all end, with the serial product's bits.
     */
    @ParameterizedTest(name = "transA={0} transB={1}")
    @MethodSource("org.adjoint.kernels.GemmTest#transposes")
    void partsRunOneAfterAnotherOnOneThreadGiveTheSerialBits(boolean transA, boolean transB) {
        int[][] shapes = {{768, 384, 128}, {768, 128, 768}, {128, 512, 768}, {128, 65, 768}, {1030, 70, 600},
            {1030, 2100, 9}};
        for (MicroKernel tile : new MicroKernel[] {VectorMicroKernel.INSTANCE, VectorMicroKernel12.INSTANCE}) {
            for (int[] shape : shapes) {
                int m = shape[0];
                int n = shape[1];
                int k = shape[2];
                SplittableRandom random = new SplittableRandom(m * 5L + n * 11L + k);
                Stored a = transA ? Stored.random(random, k, m, 0, 0, A_SCALE, 0f) : Stored.random(random, m, k, 0, 0, A_SCALE, 0f);
                Stored b = transB ? Stored.random(random, n, k, 0, 0, B_SCALE, 0f) : Stored.random(random, k, n, 0, 0, B_SCALE, 0f);
                float[] serial = new float[m * n];
                PackedGemm.BSource source = PackedGemm.dense(tile, transB, b.data(), 0, b.ld());
                PackedGemm.sgemmSerial(tile, transA, m, n, k, 0.7f, a.data(), 0, a.ld(), source, 0f, serial, 0, n);
                for (int threads = 2; threads <= 4; threads++) {
                    for (boolean reversed : new boolean[] {false, true}) {
                        float[] c = new float[m * n];
                        Arrays.fill(c, Float.NaN);
                        IntConsumer part = PackedGemm.parts(tile, transA, m, n, k, 0.7f, a.data(), 0, a.ld(), source, false,
                                c, 0, n).apply(threads);
                        int parts = threads;
                        // A part waiting for another that can only run after it would hang here.
                        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                            for (int p = 0; p < parts; p++) {
                                part.accept(reversed ? parts - 1 - p : p);
                            }
                        });
                        for (int i = 0; i < serial.length; i++) {
                            if (Float.floatToRawIntBits(serial[i]) != Float.floatToRawIntBits(c[i])) {
                                fail(tile.getClass().getSimpleName() + " m=" + m + " n=" + n + " k=" + k + ", " + threads
                                        + " parts" + (reversed ? " last first" : "") + ": element (" + i / n + ", "
                                        + i % n + ") is " + serial[i] + " serial and " + c[i] + " part after part");
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Two threads share a product of 128 rows read in place (the GPT's weight gradients
     * {@code xᵀ·dY}) as runs of slivers over one block of all the rows, two runs of equal
     * length a thread: with the 12-row tile instead of blocks of rows (72 and 56 rows), with the
     * 4-row one, whose blocks of rows would end as soon, so that no panel of B is shared
     * between the threads; with many rows both still cut rows alone.
     */
    @Test
    void twoThreadsSplitAFewRowsProductBySlivers() {
        for (MicroKernel tile : new MicroKernel[] {VectorMicroKernel12.INSTANCE, VectorMicroKernel.INSTANCE}) {
            for (long l2 : l2Sizes(tile)) {
                String name = tile.getClass().getSimpleName() + ", L2 " + (l2 >> 10) + " KiB";
                int mc = blocking(tile, l2).mc();
                for (int width : new int[] {128, 384, 512}) {
                    int slivers = (width + tile.columns() - 1) / tile.columns();
                    int[] cut = GemmPlan.cut(tile, false, 128, width, mc, 2);
                    String label = name + ", width " + width + ": " + cut[0] + " tiles a block, " + cut[1]
                            + " runs of slivers";
                    assertEquals(true, cut[0] * tile.rows() >= 128, label);
                    assertEquals(0, cut[1] % 4, label);
                    assertEquals(0, slivers % cut[1], label);
                }
                int[] many = GemmPlan.cut(tile, false, 768, 384, mc, 2);
                assertEquals(1, many[1], name + ", 768 rows: " + many[0] + " tiles a block, " + many[1]
                        + " runs of slivers");
            }
        }
    }

    /**
     * The L2 sizes each tile is planned for in these tests, whatever this machine's: the
     * 16-register tile runs on AVX2 cores with 512 KiB (Zen 3) to 2 MiB, the 12-row one on
     * AVX-512 cores with 1 MiB (Zen 4, Zen 5) or 2 MiB (the Intel Xeon). Planned with this
     * machine's caches instead, the 12-row tile's MC on a Zen 3 (120 rows) split the 128 rows
     * into two blocks, and the tests failed there.
     */
    private static long[] l2Sizes(MicroKernel tile) {
        return tile.rows() >= 12 ? new long[] {1L << 20, 2L << 20} : new long[] {512L << 10, 1L << 20, 2L << 20};
    }

    /** What {@link GemmBlocking} chooses for {@code tile} on 2 cores with {@code l2} bytes of L2 each. */
    private static GemmBlocking blocking(MicroKernel tile, long l2) {
        return GemmBlocking.forCaches(tile.rows(), tile.columns(), l2, 32L << 20, 2);
    }

    /**
     * Each thread packs its own panel of B where it has many rows of C to compute from it
     * (the GPT's 768-row products on two threads), or each unit its own slivers where the cut
     * is one block of rows in runs of slivers (the GPT's 128-row weight gradients on the 12-row
     * tile); the threads share one panel where they have few rows in several blocks, and on one
     * thread. A shared panel is packed in runs the threads claim, a private one in none.
     */
    @Test
    void threadsPackTheirOwnPanelOnlyWhereEachHasManyRows() {
        for (MicroKernel tile : new MicroKernel[] {VectorMicroKernel.INSTANCE, VectorMicroKernel12.INSTANCE}) {
            for (long l2 : l2Sizes(tile)) {
                String name = tile.getClass().getSimpleName() + ", L2 " + (l2 >> 10) + " KiB";
                GemmBlocking blocks = blocking(tile, l2);
                GemmPlan.Plan many = new GemmPlan.Plan(tile, blocks, false, 128, 768, 384, 768, 2);
                assertEquals(true, many.privatePanels, name + ": 768 rows on two threads");
                assertEquals(0, many.packRuns, name + ": runs of a private panel");
                assertEquals(1, many.panels, name + ": panels a thread, over two blocks of k");
                int fewest = 2 * GemmPlan.PRIVATE_PANEL_ROWS;
                GemmPlan.Plan fewer = new GemmPlan.Plan(tile, blocks, false, 128, fewest - 1, 384, 128, 2);
                // Too few rows a thread for a whole private panel. The 12-row tile's MC is at most 504,
                // so those rows are several blocks and share one panel on every machine; the 4-row
                // tile's MC reaches 512 on a 2 MiB L2, and one block of all the rows in runs of
                // slivers packs each unit's own, as the rule says.
                boolean ownSlivers = tile == VectorMicroKernel.INSTANCE && fewer.rowBlocks == 1 && fewer.groups > 1;
                assertEquals(ownSlivers, fewer.privatePanels, name + ": " + (fewest - 1) + " rows on two threads in "
                        + fewer.rowBlocks + " blocks of rows and " + fewer.groups + " runs of slivers");
                GemmPlan.Plan weightGrad = new GemmPlan.Plan(tile, blocks, true, 128, 128, 512, 768, 2);
                boolean runsOnly = weightGrad.rowBlocks == 1 && weightGrad.groups > 1;
                String cut = name + ": 128 rows on two threads in " + weightGrad.rowBlocks + " blocks of rows and "
                        + weightGrad.groups + " runs of slivers";
                assertEquals(runsOnly, weightGrad.privatePanels, cut);
                assertEquals(runsOnly, weightGrad.packRuns == 0, cut);
                GemmPlan.Plan serial = new GemmPlan.Plan(tile, blocks, false, 128, 768, 384, 128, 1);
                assertEquals(false, serial.privatePanels, name + ": one thread");
            }
        }
        for (long l2 : l2Sizes(VectorMicroKernel12.INSTANCE)) {
            GemmPlan.Plan twelve = new GemmPlan.Plan(VectorMicroKernel12.INSTANCE,
                    blocking(VectorMicroKernel12.INSTANCE, l2), true, 128, 128, 384, 768, 2);
            assertEquals(true, twelve.privatePanels, "the 12-row tile cuts 128 rows into runs of slivers (L2 "
                    + (l2 >> 10) + " KiB): " + twelve.rowBlocks + " blocks of rows, " + twelve.groups + " runs");
        }
    }
}
