package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The row forms of {@link Indexing} against the element forms they stand in for, bit for bit. */
class IndexingTest {

    /** {@code [outer, count, inner]} floats from one index per position, as the element forms read them. */
    private static float[] expand(int outer, int inner, int[] indices) {
        float[] out = new float[outer * indices.length * inner];
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < indices.length; j++) {
                for (int i = 0; i < inner; i++) {
                    out[(o * indices.length + j) * inner + i] = indices[j];
                }
            }
        }
        return out;
    }

    private static float[] random(SplittableRandom random, int n) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) random.nextGaussian();
        }
        return out;
    }

    private static int[] indices(SplittableRandom random, int count, int length) {
        int[] out = new int[count];
        for (int j = 0; j < count; j++) {
            // Few distinct values, so that rows repeat and their additions pile up.
            out[j] = random.nextInt(Math.min(length, 1 + count / 3));
        }
        return out;
    }

    private static int[] bits(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Float.floatToRawIntBits(values[i]);
        }
        return out;
    }

    /** Small shapes, a single column, and the GPT's embeddings (768 rows of 128, large enough for the threads to split). */
    @ParameterizedTest(name = "outer {0}, length {1}, inner {2}, count {3}")
    @CsvSource({"1, 5, 1, 7", "1, 65, 128, 768", "1, 64, 128, 768", "3, 4, 5, 6", "2, 9, 1, 4000", "4, 7, 3000, 11",
            "1, 3, 70000, 2", "2, 5, 0, 3", "2, 5, 3, 0"})
    void rowFormsGiveTheElementFormsBits(int outer, int length, int inner, int count) {
        SplittableRandom random = new SplittableRandom(31L * outer + 7L * length + inner + count);
        float[] src = random(random, outer * length * inner);
        int[] indices = indices(random, count, length);
        float[] expanded = expand(outer, inner, indices);

        float[] gathered = new float[outer * count * inner];
        Indexing.gather(src, outer, length, inner, expanded, count, gathered);
        float[] selected = new float[gathered.length];
        Indexing.selectRows(src, outer, length, inner, indices, selected);
        assertArrayEquals(bits(gathered), bits(selected), "selectRows");

        float[] values = random(random, outer * count * inner);
        float[] start = random(random, outer * length * inner);
        float[] scattered = start.clone();
        Indexing.scatterAdd(values, outer, count, inner, expanded, scattered, length);
        float[] added = start.clone();
        Indexing.addRows(values, outer, inner, indices, added, length);
        assertArrayEquals(bits(scattered), bits(added), "addRows");
    }

    @ParameterizedTest(name = "index {0}")
    @CsvSource({"-1", "4"})
    void anIndexOutOfRangeIsNamedBeforeAnythingIsWritten(int bad) {
        float[] src = {1, 2, 3, 4, 5, 6, 7, 8};
        int[] indices = {0, 1, bad};
        float[] out = new float[6];
        IndexOutOfBoundsException select = assertThrows(IndexOutOfBoundsException.class,
                () -> Indexing.selectRows(src, 1, 4, 2, indices, out));
        assertTrue(select.getMessage().contains("index " + bad + " (position 2) is not in [0, 4)"), select.getMessage());
        assertArrayEquals(new float[6], out);

        float[] into = src.clone();
        IndexOutOfBoundsException add = assertThrows(IndexOutOfBoundsException.class,
                () -> Indexing.addRows(new float[6], 1, 2, indices, into, 4));
        assertTrue(add.getMessage().contains("index " + bad), add.getMessage());
        assertArrayEquals(src, into);
    }
}
