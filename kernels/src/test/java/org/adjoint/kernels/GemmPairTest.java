package org.adjoint.kernels;

import static org.adjoint.kernels.GemmTest.A_SCALE;
import static org.adjoint.kernels.GemmTest.B_SCALE;
import static org.adjoint.kernels.GemmTest.C_SCALE;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;

import org.adjoint.kernels.GemmTest.Stored;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two products in one parallel region ({@link GemmPair}, a layer's input and
 * weight gradients): each has the bits it has alone, whichever thread computes which of its
 * units, whether the parts run side by side or one after another, and a failure in one is
 * rethrown without leaving the threads waiting.
 */
class GemmPairTest {

    /** The GPT's pairs ({@code dY·Wᵀ} and {@code xᵀ·dY} of its four layers and its head) and odd shapes. */
    private static final int[][][] PAIRS = {
        {{0, 1, 768, 128, 384}, {1, 0, 128, 384, 768}},
        {{0, 1, 768, 128, 512}, {1, 0, 128, 512, 768}},
        {{0, 1, 768, 512, 128}, {1, 0, 512, 128, 768}},
        {{0, 0, 768, 128, 65}, {1, 0, 65, 128, 768}},
        {{1, 1, 300, 170, 530}, {0, 0, 1030, 70, 600}},
        {{0, 0, 13, 9, 7}, {1, 1, 640, 300, 40}},
    };

    @BeforeAll
    static void regionsGetTheirThreads() {
        CompilerLoadTest.assertRegionsGetTheirThreads();
    }

    @Test
    void eachProductOfAPairHasItsBitsAlone() {
        for (MicroKernel tile : new MicroKernel[] {VectorMicroKernel.INSTANCE, VectorMicroKernel3.INSTANCE,
            VectorMicroKernel12.INSTANCE}) {
            for (int[][] pair : PAIRS) {
                for (float beta : new float[] {0f, 0.3f}) {
                    Case first = new Case(pair[0], beta, 1);
                    Case second = new Case(pair[1], 0f, 2);
                    float[] c1 = first.c.data().clone();
                    float[] c2 = second.c.data().clone();
                    GemmPair.sgemm(tile, first.product(c1), second.product(c2));
                    String label = tile.getClass().getSimpleName() + " beta=" + beta;
                    first.assertAlone(tile, c1, label + ", first");
                    second.assertAlone(tile, c2, label + ", second");
                }
            }
        }
    }

    /**
     * Operands and Cs that start inside their arrays, with rows longer than they are wide, and
     * beta on either product: each product has its bits alone, and nothing outside its C changes.
     */
    @Test
    void productsOfAPairAtOffsetsWithPaddedRowsHaveTheirBitsAlone() {
        for (MicroKernel tile : new MicroKernel[] {VectorMicroKernel.INSTANCE, VectorMicroKernel12.INSTANCE}) {
            for (int[][] pair : PAIRS) {
                for (boolean betaFirst : new boolean[] {true, false}) {
                    Case first = new Case(pair[0], betaFirst ? 0.3f : 0f, 9, 5, 3);
                    Case second = new Case(pair[1], betaFirst ? 0f : 0.3f, 10, 7, 1);
                    float[] c1 = first.c.data().clone();
                    float[] c2 = second.c.data().clone();
                    GemmPair.sgemm(tile, first.product(c1), second.product(c2));
                    String label = tile.getClass().getSimpleName() + (betaFirst ? ", beta on the first" : ", beta on the second");
                    first.assertAlone(tile, c1, label + ", first");
                    second.assertAlone(tile, c2, label + ", second");
                }
            }
        }
    }

    /** The providers' pair, which runs small and narrow products one after the other, as their sgemm. */
    @Test
    void theProvidersPairHasTheBitsOfTheirProducts() {
        for (KernelProvider provider : new KernelProvider[] {KernelProvider.named("vector"),
            KernelProvider.named("scalar")}) {
            for (int[][] pair : PAIRS) {
                Case first = new Case(pair[0], 0.3f, 3);
                Case second = new Case(pair[1], 0f, 4);
                float[] c1 = first.c.data().clone();
                float[] c2 = second.c.data().clone();
                provider.sgemmPair(first.product(c1), second.product(c2));
                float[] e1 = first.c.data().clone();
                float[] e2 = second.c.data().clone();
                first.product(e1).on(provider);
                second.product(e2).on(provider);
                assertSameBits(e1, c1, provider.name() + " " + first);
                assertSameBits(e2, c2, provider.name() + " " + second);
            }
        }
    }

    /**
     * A pair's parts run one after another on one thread, as when the caller takes the part of a
     * worker that has not begun, in either order and for two to four parts: every part ends
     * (none waits for one that can only run after it) and each product has its bits.
     */
    @Test
    void aPairsPartsRunOneAfterAnotherOnOneThread() {
        for (MicroKernel tile : new MicroKernel[] {VectorMicroKernel.INSTANCE, VectorMicroKernel12.INSTANCE}) {
            for (int[][] pair : PAIRS) {
                Case first = new Case(pair[0], 0f, 5);
                Case second = new Case(pair[1], 0f, 6);
                for (int threads = 2; threads <= 4; threads++) {
                    for (boolean reversed : new boolean[] {false, true}) {
                        float[] c1 = first.c.data().clone();
                        float[] c2 = second.c.data().clone();
                        IntConsumer part = GemmPair.parts(tile, first.product(c1), second.product(c2))
                                .apply(threads);
                        int parts = threads;
                        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                            for (int p = 0; p < parts; p++) {
                                part.accept(reversed ? parts - 1 - p : p);
                            }
                        });
                        String label = tile.getClass().getSimpleName() + ", " + threads + " parts"
                                + (reversed ? " last first" : "");
                        first.assertAlone(tile, c1, label + ", first");
                        second.assertAlone(tile, c2, label + ", second");
                    }
                }
            }
        }
    }

    /** A product of the pair that fails (its C too short) is rethrown, and the next pair is right. */
    @Test
    void aFailingProductOfAPairIsRethrownAndTheNextPairIsRight() {
        MicroKernel tile = VectorMicroKernel12.INSTANCE;
        for (boolean failFirst : new boolean[] {true, false}) {
            Case first = new Case(PAIRS[0][0], 0f, 7);
            Case second = new Case(PAIRS[0][1], 0f, 8);
            GemmKernels.Product good1 = first.product(first.c.data().clone());
            GemmKernels.Product good2 = second.product(second.c.data().clone());
            GemmKernels.Product broken = failFirst ? first.product(new float[first.m * first.n / 2])
                    : second.product(new float[second.m * second.n / 2]);
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThrows(IndexOutOfBoundsException.class,
                    () -> GemmPair.sgemm(tile, failFirst ? broken : good1, failFirst ? good2 : broken)));
            float[] c1 = first.c.data().clone();
            float[] c2 = second.c.data().clone();
            GemmPair.sgemm(tile, first.product(c1), second.product(c2));
            first.assertAlone(tile, c1, "after a failure, first");
            second.assertAlone(tile, c2, "after a failure, second");
        }
    }

    /** One product: {@code {transA, transB, m, n, k}}, random operands, C and beta. */
    private static final class Case {
        final boolean transA;
        final boolean transB;
        final int m;
        final int n;
        final int k;
        final float beta;
        final Stored a;
        final Stored b;
        final Stored c;

        Case(int[] shape, float beta, long seed) {
            this(shape, beta, seed, 0, 0);
        }

        /** Operands and C starting {@code offset} values into their arrays, rows {@code padding} values longer than they are wide. */
        Case(int[] shape, float beta, long seed, int offset, int padding) {
            transA = shape[0] == 1;
            transB = shape[1] == 1;
            m = shape[2];
            n = shape[3];
            k = shape[4];
            this.beta = beta;
            SplittableRandom random = new SplittableRandom(seed * 1_000_003L + m * 7L + n * 3L + k);
            a = transA ? Stored.random(random, k, m, offset, padding, A_SCALE, 0f)
                    : Stored.random(random, m, k, offset, padding, A_SCALE, 0f);
            b = transB ? Stored.random(random, n, k, offset, padding, B_SCALE, 0f)
                    : Stored.random(random, k, n, offset, padding, B_SCALE, 0f);
            c = Stored.random(random, m, n, offset, padding, C_SCALE, 0f);
        }

        GemmKernels.Product product(float[] into) {
            return new GemmKernels.Product(transA, transB, m, n, k, 0.7f, a.data(), a.offset(), a.ld(), b.data(),
                    b.offset(), b.ld(), beta, into, c.offset(), c.ld());
        }

        void assertAlone(MicroKernel tile, float[] actual, String label) {
            float[] alone = c.data().clone();
            PackedGemm.sgemmSerial(tile, transA, m, n, k, 0.7f, a.data(), a.offset(), a.ld(),
                    PackedGemm.dense(tile, transB, b.data(), b.offset(), b.ld()), beta, alone, c.offset(), c.ld());
            assertSameBits(alone, actual, label + " " + this);
        }

        @Override
        public String toString() {
            return (transA ? "t" : "n") + (transB ? "t" : "n") + ":" + m + "x" + n + "x" + k + " beta=" + beta;
        }
    }

    private static void assertSameBits(float[] expected, float[] actual, String label) {
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                fail(label + ": element " + i + " is " + actual[i] + " against " + expected[i] + " alone");
            }
        }
    }
}
