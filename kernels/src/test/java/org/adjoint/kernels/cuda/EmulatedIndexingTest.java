package org.adjoint.kernels.cuda;

import static org.adjoint.kernels.cuda.EmulatorSupport.assertBits;
import static org.adjoint.kernels.cuda.EmulatorSupport.random;
import static org.adjoint.kernels.cuda.EmulatorSupport.spreadOverBinades;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.adjoint.kernels.Indexing;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The indexing device kernels ({@code gather}, {@code scatter_add}) on the emulator against
 * {@link Indexing}, with the NaN that marks an index the CPU would refuse.
 */
class EmulatedIndexingTest {

    @RegisterExtension
    static final EmulatorSupport EMULATOR = new EmulatorSupport();

    /** {@code count} indices into an axis of {@code length}, between {@code outer} rows and {@code inner} lanes. */
    private record Indexed(int outer, int length, int inner, int count) {
        @Override
        public String toString() {
            return "[" + outer + ", " + length + ", " + inner + ", " + count + "]";
        }
    }

    /** Rows, lanes, repeated indices, empty axes, more lanes than a block. */
    private static final List<Indexed> INDEXED = List.of(
            new Indexed(1, 5, 1, 7), new Indexed(6, 3, 1, 4), new Indexed(3, 5, 4, 6), new Indexed(2, 4, 3, 0),
            new Indexed(4, 1, 2, 3), new Indexed(0, 3, 2, 4), new Indexed(2, 3, 0, 5), new Indexed(2, 6, 150, 9),
            new Indexed(300, 2, 1, 3));

    @Test
    void gatherMatchesIndexing() throws IOException {
        for (Indexed s : INDEXED) {
            int outer = s.outer();
            int length = s.length();
            int inner = s.inner();
            int count = s.count();
            float[] src = random(outer * length * inner, 19, -3, 3);
            float[] indices = indices(outer * count * inner, length, 20);
            float[] expected = new float[indices.length];
            Indexing.gather(src, outer, length, inner, indices, count, expected);
            float[] stale = new float[indices.length];
            Arrays.fill(stale, 123f);
            EMULATOR.assertBitsOnEveryLaunch(expected, 2, "gather " + s, "gather", src, outer, length, inner, indices,
                    count, stale);
        }
    }

    @Test
    void gatherGivesNanForAnIndexTheCpuRefuses() throws IOException {
        float[] src = {10f, 11f, 12f};
        float[] indices = {-1f, 1.5f, Float.NaN, 3f, 2f, -0f, 3e9f, Float.NEGATIVE_INFINITY};
        List<float[]> result = EMULATOR.launch("gather", 1, 32, src, 1, 3, 1, indices, indices.length,
                new float[indices.length]);
        assertBits(new float[] {Float.NaN, Float.NaN, Float.NaN, Float.NaN, 12f, 10f, Float.NaN, Float.NaN},
                result.get(2), "gather with indices outside [0, 3) or not whole");
    }

    @Test
    void scatterAddAddsInTheCpuOrder() throws IOException {
        for (Indexed s : INDEXED) {
            int outer = s.outer();
            int length = s.length();
            int inner = s.inner();
            int count = s.count();
            float[] values = spreadOverBinades(outer * count * inner, 21);
            float[] indices = indices(values.length, length, 22);
            float[] out = random(outer * length * inner, 23, -1, 1);
            if (out.length > 0) {
                out[0] = -0f;
            }
            float[] expected = out.clone();
            Indexing.scatterAdd(values, outer, count, inner, indices, expected, length);
            EMULATOR.assertBitsOnEveryLaunch(expected, 2, "scatter_add " + s, "scatter_add", values, outer, count,
                    inner, indices, out, length);
        }
    }

    @Test
    void scatterAddSumsRepeatedIndicesInOrderOfTheirPosition() throws IOException {
        // Added in order, 1 is lost next to 1e8 and the sum is 0; any other order gives 1 or 2.
        float[] values = {1f, 1e8f, -1e8f, 7f};
        float[] indices = {0f, 0f, 0f, 1f};
        float[] expected = {0f, 7f};
        float[] cpu = new float[2];
        Indexing.scatterAdd(values, 1, 4, 1, indices, cpu, 2);
        assertBits(expected, cpu, "Indexing.scatterAdd");
        EMULATOR.assertBitsOnEveryLaunch(expected, 2, "scatter_add of 1, 1e8, -1e8 into one element", "scatter_add",
                values, 1, 4, 1, indices, new float[2], 2);
    }

    @Test
    void scatterAddMakesALaneNanWhenOneOfItsIndicesIsRefused() throws IOException {
        // Two lanes (inner 2), three entries each; lane 1 has the index 4 in a length of 4.
        float[] values = {1f, 10f, 2f, 20f, 3f, 30f};
        float[] indices = {0f, 1f, 2f, 4f, 0f, 3f};
        float[] out = new float[8];
        float[] expected = {4f, Float.NaN, 0f, Float.NaN, 2f, Float.NaN, 0f, Float.NaN};
        List<float[]> result = EMULATOR.launch("scatter_add", 1, 32, values, 1, 3, 2, indices, out, 4);
        assertBits(expected, result.get(2), "scatter_add with an index outside [0, 4) in lane 1");
        for (float refused : new float[] {-1f, 0.5f, Float.NaN}) {
            List<float[]> single = EMULATOR.launch("scatter_add", 1, 32, new float[] {1f}, 1, 1, 1,
                    new float[] {refused}, new float[] {5f, 6f}, 2);
            assertBits(new float[] {Float.NaN, Float.NaN}, single.get(2), "scatter_add with the index " + refused);
        }
    }

    @Test
    void splitScatterAddsEachPartInOrderThenThePartsInPartOrder() throws IOException {
        // Chunks that divide the entries and chunks that do not, more parts than entries, one part.
        List<Indexed> shapes = List.of(new Indexed(1, 5, 3, 70), new Indexed(2, 4, 3, 9), new Indexed(3, 6, 2, 1));
        for (Indexed s : shapes) {
            int outer = s.outer();
            int length = s.length();
            int inner = s.inner();
            int count = s.count();
            float[] values = spreadOverBinades(outer * count * inner, 31);
            float[] indices = indices(values.length, length, 32);
            float[] out = random(outer * length * inner, 33, -1, 1);
            for (int parts : new int[] {1, 2, 3, 8}) {
                float[] expected = splitScatter(values, outer, count, inner, indices, out, length, parts);
                for (int[] launch : new int[][] {{1, 1}, {3, 32}, {2, 256}}) {
                    String what = "split scatter " + s + " in " + parts + " parts, launch " + Arrays.toString(launch);
                    List<float[]> partial = EMULATOR.launch("scatter_add_parts", launch[0], launch[1], values, outer,
                            count, inner, indices, new float[parts * outer * length * inner], length, parts);
                    List<float[]> combined = EMULATOR.launch("scatter_add_combine", launch[0], launch[1],
                            partial.get(2), parts, (long) out.length, out.clone());
                    assertBits(expected, combined.get(1), what);
                }
            }
        }
    }

    @Test
    void splitScatterMakesALaneNanWhenOneOfItsIndicesIsRefusedAndKeepsUntouchedElements() throws IOException {
        // One lane, four entries in two parts; the second part holds the index 3 in a length of 3.
        float[] values = {1f, 2f, 3f, 4f};
        float[] indices = {0f, 1f, 3f, 0f};
        List<float[]> partial = EMULATOR.launch("scatter_add_parts", 1, 32, values, 1, 4, 1, indices, new float[6], 3,
                2);
        List<float[]> combined = EMULATOR.launch("scatter_add_combine", 1, 32, partial.get(2), 2, 3L,
                new float[] {5f, 6f, 7f});
        assertBits(new float[] {Float.NaN, Float.NaN, Float.NaN}, combined.get(1), "split scatter with the index 3");
        // An element no entry reaches keeps its bits, -0 included.
        List<float[]> zeroPartial = EMULATOR.launch("scatter_add_parts", 1, 32, values, 1, 4, 1, new float[4],
                new float[4], 2, 2);
        List<float[]> zeroCombined = EMULATOR.launch("scatter_add_combine", 1, 32, zeroPartial.get(2), 2, 2L,
                new float[] {1f, -0f});
        assertBits(new float[] {11f, -0f}, zeroCombined.get(1), "split scatter into index 0 only");
    }

    /** What scatter_add_parts and scatter_add_combine compute: each part's sums from -0 in order, then the parts in order. */
    private static float[] splitScatter(float[] values, int outer, int count, int inner, float[] indices, float[] out,
                                        int length, int parts) {
        int chunk = Math.ceilDiv(count, parts);
        float[][] partials = new float[parts][outer * length * inner];
        for (float[] part : partials) {
            Arrays.fill(part, -0f);
        }
        for (int p = 0; p < parts; p++) {
            for (int o = 0; o < outer; o++) {
                for (int j = p * chunk; j < Math.min(count, (p + 1) * chunk); j++) {
                    for (int i = 0; i < inner; i++) {
                        int at = (o * count + j) * inner + i;
                        partials[p][(o * length + (int) indices[at]) * inner + i] += values[at];
                    }
                }
            }
        }
        float[] result = out.clone();
        for (int e = 0; e < result.length; e++) {
            float sum = partials[0][e];
            for (int p = 1; p < parts; p++) {
                sum += partials[p][e];
            }
            result[e] += sum;
        }
        return result;
    }

    /** Whole numbers in {@code [0, length)}, few distinct ones so that they repeat, some of them -0. */
    private static float[] indices(int n, int length, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] indices = new float[n];
        for (int k = 0; k < n; k++) {
            indices[k] = random.nextInt(length);
            if (indices[k] == 0 && k % 2 == 1) {
                indices[k] = -0f;
            }
        }
        return indices;
    }
}
