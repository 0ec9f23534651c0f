package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link PackedGemm#sgemmPackedB} against {@link PackedGemm#sgemm} bit for bit: B packed by
 * the caller, one block of k, beta 0 and 1, A read in place (panels up to 256 wide) or packed
 * (wider), rows that leave short tiles or an edge tile, columns that leave part of a sliver,
 * A at an offset with a long row stride, with every register tile.
 */
class PackedBGemmTest {

    /** {@code m × k} times {@code k × n}; A's rows {@code lda} apart from {@code aOffset}. */
    record Case(int m, int n, int k, int aOffset, int lda) {

        @Override
        public String toString() {
            return m + "x" + k + "·" + k + "x" + n + " at " + aOffset + " lda " + lda;
        }
    }

    static Stream<Arguments> cases() {
        List<Case> cases = List.of(
                new Case(32, 64, 196, 0, 196),
                new Case(32, 32, 196, 37, 224),
                new Case(12, 32, 1, 0, 1),
                new Case(13, 33, 17, 5, 40),
                new Case(25, 96, 100, 3, 300),
                new Case(8, 7, 512, 0, 512),
                new Case(3, 300, 64, 1, 70),
                new Case(40, 600, 9, 0, 9));
        List<MicroKernel> kernels = List.of(VectorMicroKernel12.INSTANCE, VectorMicroKernel.INSTANCE,
                VectorMicroKernel3.INSTANCE);
        return cases.stream().flatMap(c -> kernels.stream().map(kernel -> Arguments.of(c, kernel)));
    }

    private static float[] random(long seed, int n) {
        return TestArrays.uniform(seed, n);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void givesTheBitsOfSgemm(Case c, MicroKernel kernel) {
        float[] a = random(1, c.aOffset() + (c.m() - 1) * c.lda() + c.k());
        // B stored transposed (n rows of k), as a weight gradient's dy.
        float[] b = random(2, c.n() * c.k());
        int nr = kernel.columns();
        int slivers = (c.n() + nr - 1) / nr;
        float[] pack = new float[slivers * nr * c.k()];
        PackedGemm.dense(kernel, true, b, 0, c.k()).pack(0, c.k(), 0, c.n(), 0, slivers, pack, 0);
        for (float beta : new float[] {0f, 1f}) {
            float[] expected = random(3, c.m() * c.n());
            float[] actual = expected.clone();
            PackedGemm.sgemm(kernel, false, true, c.m(), c.n(), c.k(), 1f, a, c.aOffset(), c.lda(), b, 0, c.k(),
                    beta, expected, 0, c.n());
            PackedGemm.sgemmPackedB(kernel, c.m(), c.n(), c.k(), 1f, a, c.aOffset(), c.lda(), pack, 0, beta,
                    actual, 0, c.n());
            assertArrayEquals(expected, actual, kernel.getClass().getSimpleName() + " " + c + " beta " + beta);
        }
    }

    @Test
    void rejectsADepthPastKcAndOtherBetas() {
        MicroKernel kernel = VectorMicroKernel.select();
        int kc = GemmBlocking.forTile(kernel.rows(), kernel.columns()).kc();
        float[] a = new float[4 * (kc + 1)];
        float[] pack = new float[kernel.columns() * (kc + 1)];
        float[] c = new float[4 * 4];
        assertThrows(IllegalArgumentException.class,
                () -> PackedGemm.sgemmPackedB(kernel, 4, 4, kc + 1, 1f, a, 0, kc + 1, pack, 0, 0f, c, 0, 4));
        assertThrows(IllegalArgumentException.class,
                () -> PackedGemm.sgemmPackedB(kernel, 4, 4, 4, 1f, a, 0, 4, pack, 0, 0.5f, c, 0, 4));
    }
}
