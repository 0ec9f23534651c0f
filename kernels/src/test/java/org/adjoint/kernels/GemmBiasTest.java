package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * A linear layer's product and bias in one call ({@link KernelProvider#sgemmBias}): the bits
 * of the product followed by the bias pass, on both providers, for products whose k is one
 * block of the tile's (C started as the bias rows) and those that take the two calls (k over
 * a block, narrow and single-row products), each transpose, and every register tile with its
 * edges.
 */
class GemmBiasTest {

    /** {@code {transA, transB, m, n, k}}: the GPT's four layers and its head, odd sizes and edges, k past a block. */
    private static final int[][] SHAPES = {
        {0, 0, 768, 384, 128}, {0, 0, 768, 128, 128}, {0, 0, 768, 512, 128}, {0, 0, 768, 128, 512},
        {0, 0, 768, 65, 128}, {1, 0, 37, 45, 29}, {0, 1, 101, 33, 7}, {1, 1, 64, 97, 300}, {0, 0, 5, 3, 2},
        {0, 0, 1, 40, 9}, {0, 0, 300, 8, 16}, {0, 1, 130, 70, 1100}, {1, 0, 96, 640, 513},
    };

    private static float[] random(SplittableRandom random, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return x;
    }

    /** The operands of one shape, and C filled with garbage that must not survive. */
    private record Case(boolean transA, boolean transB, int m, int n, int k, float[] a, float[] b, float[] bias) {
        static Case of(int[] shape, long seed) {
            SplittableRandom random = new SplittableRandom(seed);
            int m = shape[2];
            int n = shape[3];
            int k = shape[4];
            return new Case(shape[0] == 1, shape[1] == 1, m, n, k, random(random, m * k), random(random, k * n),
                    random(random, n));
        }

        int lda() {
            return transA ? m : k;
        }

        int ldb() {
            return transB ? k : n;
        }

        float[] garbage() {
            float[] c = new float[m * n];
            java.util.Arrays.fill(c, Float.NaN);
            return c;
        }

        String label(String what) {
            return what + " " + (transA ? "t" : "n") + (transB ? "t" : "n") + ":" + m + "x" + n + "x" + k;
        }
    }

    @Test
    void eachProviderGivesTheBitsOfTheProductThenTheBias() {
        long seed = 11;
        for (String name : new String[] {"vector", "scalar"}) {
            KernelProvider kernels = KernelProvider.named(name);
            for (int[] shape : SHAPES) {
                Case x = Case.of(shape, seed++);
                float[] expected = x.garbage();
                kernels.sgemm(x.transA(), x.transB(), x.m(), x.n(), x.k(), 1f, x.a(), 0, x.lda(), x.b(), 0, x.ldb(),
                        0f, expected, 0, x.n());
                kernels.biasActivation(Fused.Activation.IDENTITY, expected, x.bias(), x.m(), x.n());
                float[] actual = x.garbage();
                kernels.sgemmBias(x.transA(), x.transB(), x.m(), x.n(), x.k(), x.a(), 0, x.lda(), x.b(), 0, x.ldb(),
                        x.bias(), actual);
                assertArrayEquals(expected, actual, x.label(name));
            }
        }
    }

    @Test
    void everyTileStartsFromTheBiasWithTheSameBits() {
        long seed = 101;
        for (MicroKernel tile : new MicroKernel[] {VectorMicroKernel.INSTANCE, VectorMicroKernel3.INSTANCE,
            VectorMicroKernel12.INSTANCE}) {
            int kc = GemmBlocking.forTile(tile.rows(), tile.columns()).kc();
            for (int[] shape : SHAPES) {
                if (shape[4] > kc) {
                    continue;
                }
                Case x = Case.of(shape, seed++);
                float[] expected = x.garbage();
                PackedGemm.sgemm(tile, x.transA(), x.transB(), x.m(), x.n(), x.k(), 1f, x.a(), 0, x.lda(), x.b(), 0,
                        x.ldb(), 0f, expected, 0, x.n());
                Fused.biasActivation(Fused.Activation.IDENTITY, expected, x.bias(), x.m(), x.n());
                float[] actual = x.garbage();
                PackedGemm.sgemmBias(tile, x.transA(), x.transB(), x.m(), x.n(), x.k(), x.a(), 0, x.lda(), x.b(), 0,
                        x.ldb(), x.bias(), actual);
                assertArrayEquals(expected, actual, x.label(tile.getClass().getSimpleName()));
            }
        }
    }
}
