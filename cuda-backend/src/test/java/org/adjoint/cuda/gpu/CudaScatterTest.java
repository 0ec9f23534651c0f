package org.adjoint.cuda.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.cpu.CpuBackend;
import org.adjoint.cuda.CudaBackend;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * CUDA's scatter-add against the CPU's where the device splits the entries into parts (an
 * embedding's gradient: few lanes, many entries) and where it adds a lane's entries in order.
 */
@Tag("gpu")
class CudaScatterTest {

    private static final Backend CUDA = new CudaBackend();
    private static final Backend CPU = new CpuBackend();

    /** {@code out[o, indices[o, j, i], i] += values[o, j, i]} on a backend, from the same start. */
    private static float[] scatter(Backend backend, float[] values, int outer, int count, int inner, float[] indices,
                                   float[] start, int length) {
        Buffer v = backend.upload(values);
        Buffer x = backend.upload(indices);
        Buffer out = backend.upload(start);
        try {
            backend.scatterAdd(v, outer, count, inner, x, out, length);
            return backend.download(out);
        } finally {
            backend.release(v);
            backend.release(x);
            backend.release(out);
        }
    }

    private static void check(int outer, int count, int inner, int length, long seed, boolean exact) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[outer * count * inner];
        float[] indices = new float[values.length];
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < count; j++) {
                // An embedding's indices: one per entry, the same in every lane.
                int index = random.nextInt(length);
                for (int i = 0; i < inner; i++) {
                    indices[(o * count + j) * inner + i] = index;
                }
            }
        }
        for (int k = 0; k < values.length; k++) {
            values[k] = (float) random.nextDouble(-1, 1);
        }
        float[] start = new float[outer * length * inner];
        for (int k = 0; k < start.length; k++) {
            start[k] = (float) random.nextDouble(-1, 1);
        }
        float[] expected = scatter(CPU, values, outer, count, inner, indices, start, length);
        float[] actual = scatter(CUDA, values, outer, count, inner, indices, start, length);
        String what = "scatterAdd [" + outer + ", " + count + ", " + inner + "] into " + length;
        if (exact) {
            assertArrayEquals(expected, actual, what);
            return;
        }
        assertEquals(expected.length, actual.length, what);
        for (int k = 0; k < expected.length; k++) {
            assertTrue(Math.abs(expected[k] - actual[k]) <= 1e-4 * Math.max(1, Math.abs(expected[k])),
                    what + ", element " + k + ": " + actual[k] + " against the CPU's " + expected[k]);
        }
    }

    @Test
    void anEmbeddingsGradientSplitIntoPartsMatchesTheCpu() {
        check(1, 3_000, 5, 7, 1, false);
        check(2, 700, 3, 4, 2, false);
    }

    @Test
    void fewEntriesAreAddedInTheCpusOrder() {
        check(1, 40, 5, 7, 3, true);
        check(3, 9, 2, 4, 4, true);
    }
}
