package org.adjoint.kernels.cuda;

import static org.adjoint.kernels.cuda.EmulatorSupport.LAUNCHES;
import static org.adjoint.kernels.cuda.EmulatorSupport.assertBits;
import static org.adjoint.kernels.cuda.EmulatorSupport.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.adjoint.kernels.ElementWise;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The multi-tensor kernels ({@code fill_many}, {@code axpy_many}, {@code adam_many}, {@code squares_many},
 * {@code norm_from_squares}, {@code clip_many}) on the emulator: each element as the
 * single-buffer kernels give it, over tables whose entries span several chunks, end inside
 * one, or are one element long, under every launch shape.
 */
class EmulatedMultiTensorTest {

    @RegisterExtension
    static final EmulatorSupport EMULATOR = new EmulatorSupport();

    /** Entry sizes: a long one, a single element, one that ends inside a chunk, an empty one. */
    private static final int[] SIZES = {700, 1, 129, 0, 64};
    private static final long CHUNK = 64;

    /**
     * The table over buffers passed as arguments: entry k's pointer j is buffer
     * {@code bufferIndex[k][j]}.
     */
    private static HostEmulator.Table table(int[] sizes, int[][] bufferIndex) {
        long[] counts = new long[sizes.length];
        long[][] markers = new long[sizes.length][];
        for (int k = 0; k < sizes.length; k++) {
            counts[k] = sizes[k];
            markers[k] = new long[bufferIndex[k].length];
            for (int j = 0; j < markers[k].length; j++) {
                markers[k][j] = bufferIndex[k][j] + 1L;
            }
        }
        TensorTable table = TensorTable.of(CHUNK, counts, markers);
        Object[] entries = new Object[table.values().length];
        for (int i = 0; i < entries.length; i++) {
            long value = table.values()[i];
            boolean pointer = i % CudaKernelSource.TABLE_WIDTH >= 2;
            entries[i] = pointer && value != 0 ? new HostEmulator.Alias((int) value - 1) : (Object) value;
        }
        return new HostEmulator.Table(entries);
    }

    private static TensorTable layout(int[] sizes) {
        long[] counts = Arrays.stream(sizes).asLongStream().toArray();
        long[][] pointers = new long[sizes.length][];
        Arrays.fill(pointers, new long[] {1});
        return TensorTable.of(CHUNK, counts, pointers);
    }

    /** Entry k's one buffer is buffer {@code first + k}. */
    private static int[][] oneBufferEach(int count, int first) {
        int[][] index = new int[count][];
        for (int k = 0; k < count; k++) {
            index[k] = new int[] {first + k};
        }
        return index;
    }

    @Test
    void tableLaysOutChunksEntryAfterEntry() {
        TensorTable table = layout(SIZES);
        assertEquals(4, table.entries(), "the empty buffer has no entry");
        assertEquals(11 + 1 + 3 + 1, table.chunks());
        long[] firstChunks = new long[table.entries()];
        for (int k = 0; k < firstChunks.length; k++) {
            firstChunks[k] = table.values()[k * CudaKernelSource.TABLE_WIDTH + 1];
        }
        assertEquals(List.of(0L, 11L, 12L, 15L), Arrays.stream(firstChunks).boxed().toList());
        assertThrows(IllegalArgumentException.class, () -> TensorTable.of(0, new long[] {1}, new long[][] {{1}}));
        assertThrows(IllegalArgumentException.class, () -> TensorTable.of(8, new long[] {-1}, new long[][] {{1}}));
        assertThrows(IllegalArgumentException.class, () -> TensorTable.of(8, new long[] {1}, new long[][] {{}}));
    }

    @Test
    void fillManyFillsEveryEntry() throws IOException {
        TensorTable layout = layout(SIZES);
        for (int[] launch : LAUNCHES) {
            List<Object> arguments = new ArrayList<>(List.of(table(SIZES, oneBufferEach(SIZES.length, 0)),
                    layout.entries(), layout.chunks(), CHUNK, -1.5f));
            for (int k = 0; k < SIZES.length; k++) {
                arguments.add(random(SIZES[k], k, -1, 1));
            }
            List<float[]> result = EMULATOR.launch("fill_many", launch[0], launch[1], arguments.toArray());
            for (int k = 0; k < SIZES.length; k++) {
                float[] expected = new float[SIZES[k]];
                Arrays.fill(expected, -1.5f);
                assertBits(expected, result.get(k), "fill_many entry " + k + " grid " + launch[0]);
            }
        }
    }

    @Test
    void axpyManyHasTheSingleKernelsBits() throws IOException {
        TensorTable layout = layout(SIZES);
        int[][] index = new int[SIZES.length][];
        for (int k = 0; k < SIZES.length; k++) {
            index[k] = new int[] {2 * k, 2 * k + 1};
        }
        for (int[] launch : LAUNCHES) {
            List<Object> arguments = new ArrayList<>(List.of(table(SIZES, index), layout.entries(), layout.chunks(),
                    CHUNK, -0.37f));
            List<float[]> expected = new ArrayList<>();
            for (int k = 0; k < SIZES.length; k++) {
                float[] x = random(SIZES[k], 80 + k, -4, 4);
                float[] y = random(SIZES[k], 90 + k, -4, 4);
                arguments.addAll(List.of(x, y));
                float[] sum = y.clone();
                ElementWise.axpy(-0.37f, x, sum, SIZES[k]);
                expected.add(sum);
            }
            List<float[]> result = EMULATOR.launch("axpy_many", launch[0], launch[1], arguments.toArray());
            for (int k = 0; k < SIZES.length; k++) {
                assertBits(expected.get(k), result.get(2 * k + 1), "axpy_many entry " + k + " grid " + launch[0]);
            }
        }
    }

    @Test
    void adamManyHasTheSingleKernelsBits() throws IOException {
        TensorTable layout = layout(SIZES);
        int[][] index = new int[SIZES.length][];
        for (int k = 0; k < SIZES.length; k++) {
            index[k] = new int[] {4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3};
        }
        for (float[] decay : new float[][] {{0f, 1f}, {0.01f, 1f}, {0f, 0.9999f}}) {
            for (int[] launch : LAUNCHES) {
                List<Object> arguments = new ArrayList<>(List.of(table(SIZES, index), layout.entries(),
                        layout.chunks(), CHUNK, 0.9f, 0.99f, 0.3f, 1e-8f, -1e-3f, decay[0], decay[1]));
                List<float[][]> expected = new ArrayList<>();
                for (int k = 0; k < SIZES.length; k++) {
                    float[] p = random(SIZES[k], 10 * k + 1, -1, 1);
                    float[] g = random(SIZES[k], 10 * k + 2, -0.1f, 0.1f);
                    float[] m = random(SIZES[k], 10 * k + 3, -0.01f, 0.01f);
                    float[] v = random(SIZES[k], 10 * k + 4, 0, 1e-4f);
                    arguments.addAll(List.of(p, g, m, v));
                    float[] ep = p.clone();
                    float[] em = m.clone();
                    float[] ev = v.clone();
                    ElementWise.adam(ep, g, em, ev, SIZES[k], 0.9f, 0.99f, 0.3f, 1e-8f, -1e-3f, decay[0], decay[1]);
                    expected.add(new float[][] {ep, em, ev});
                }
                List<float[]> result = EMULATOR.launch("adam_many", launch[0], launch[1], arguments.toArray());
                for (int k = 0; k < SIZES.length; k++) {
                    String what = "adam_many entry " + k + " decay " + decay[0] + " shrink " + decay[1] + " grid "
                            + launch[0];
                    assertBits(expected.get(k)[0], result.get(4 * k), what + ": parameters");
                    assertBits(expected.get(k)[1], result.get(4 * k + 2), what + ": first moments");
                    assertBits(expected.get(k)[2], result.get(4 * k + 3), what + ": second moments");
                }
            }
        }
    }

    /** The squares of one chunk as squares_many adds them: thread by thread, then the block's tree. */
    private static double chunkSquares(float[] x, int start, int end, int threads) {
        double[] lanes = new double[threads];
        for (int t = 0; t < threads; t++) {
            for (int i = start + t; i < end; i += threads) {
                lanes[t] += (double) x[i] * x[i];
            }
        }
        return tree(lanes);
    }

    /** block_reduce's order: the upper half folded onto the lower, until one value is left. */
    private static double tree(double[] lanes) {
        double[] values = lanes.clone();
        for (int size = values.length; size > 1;) {
            int half = (size + 1) / 2;
            for (int t = 0; t < size - half; t++) {
                values[t] += values[t + half];
            }
            size = half;
        }
        return values[0];
    }

    @Test
    void normOfManyBuffersIsTheDoubleSumInAFixedOrder() throws IOException {
        int[] sizes = {700, 1, 129, 0, 64};
        List<float[]> xs = new ArrayList<>();
        for (int k = 0; k < sizes.length; k++) {
            xs.add(random(sizes[k], 50 + k, -3, 3));
        }
        xs.get(2)[5] = Float.MIN_VALUE;
        xs.get(0)[3] = 1e-30f;
        TensorTable layout = layout(sizes);
        for (int block : new int[] {1, 32, 256}) {
            double[] partials = new double[(int) layout.chunks()];
            int c = 0;
            for (int k = 0; k < sizes.length; k++) {
                for (int start = 0; start < sizes[k]; start += (int) CHUNK) {
                    partials[c++] = chunkSquares(xs.get(k), start, Math.min(sizes[k], start + (int) CHUNK), block);
                }
            }
            List<float[]> expectedPartials = new ArrayList<>();
            for (int grid : new int[] {1, 3, 40}) {
                List<Object> arguments = new ArrayList<>(List.of(table(sizes, oneBufferEach(sizes.length, 1)),
                        layout.entries(), layout.chunks(), CHUNK, new float[2 * partials.length]));
                arguments.addAll(xs);
                float[] written = EMULATOR.launch("squares_many", grid, block, arguments.toArray()).get(0);
                for (int i = 0; i < partials.length; i++) {
                    long bits = (Float.floatToRawIntBits(written[2 * i]) & 0xFFFFFFFFL)
                            | (long) Float.floatToRawIntBits(written[2 * i + 1]) << 32;
                    assertEquals(Double.doubleToRawLongBits(partials[i]), bits,
                            "squares_many chunk " + i + " block " + block + " grid " + grid);
                }
                expectedPartials.add(written);
            }
            // norm_from_squares over those partials, with the threads of one block.
            double[] lanes = new double[block];
            for (int i = 0; i < partials.length; i++) {
                lanes[i % block] += partials[i];
            }
            float expected = (float) Math.sqrt((float) tree(lanes));
            for (int grid : new int[] {1, 2}) {
                float[] norm = EMULATOR.launch("norm_from_squares", grid, block, expectedPartials.get(0),
                        layout.chunks(), new float[1]).get(1);
                assertBits(new float[] {expected}, norm, "norm_from_squares block " + block + " grid " + grid);
            }
        }
    }

    @Test
    void clipManyScalesOnlyWhenTheNormIsAboveTheBound() throws IOException {
        TensorTable layout = layout(SIZES);
        // {norm, maxNorm}: clipped, not clipped (coefficient exactly 1 or above), a NaN norm.
        float[][] cases = {{10f, 1f}, {1f, 1.000001f}, {0.5f, 1f}, {Float.NaN, 1f}, {Float.POSITIVE_INFINITY, 1f}};
        for (float[] c : cases) {
            float coefficient = (float) (c[1] / ((double) c[0] + 1e-6));
            boolean scales = coefficient < 1f || Float.isNaN(coefficient);
            for (int[] launch : LAUNCHES) {
                List<Object> arguments = new ArrayList<>(List.of(table(SIZES, oneBufferEach(SIZES.length, 1)),
                        layout.entries(), layout.chunks(), CHUNK, new float[] {c[0]}, c[1]));
                List<float[]> inputs = new ArrayList<>();
                for (int k = 0; k < SIZES.length; k++) {
                    inputs.add(random(SIZES[k], 70 + k, -2, 2));
                }
                arguments.addAll(inputs);
                List<float[]> result = EMULATOR.launch("clip_many", launch[0], launch[1], arguments.toArray());
                for (int k = 0; k < SIZES.length; k++) {
                    float[] expected = inputs.get(k).clone();
                    if (scales) {
                        for (int i = 0; i < expected.length; i++) {
                            expected[i] = expected[i] * coefficient;
                        }
                    }
                    assertBits(expected, result.get(k + 1), "clip_many norm " + c[0] + " entry " + k);
                }
            }
        }
        assertTrue((float) (1f / (1.0 + 1e-6)) < 1f, "a norm equal to the bound still scales, slightly");
    }
}
