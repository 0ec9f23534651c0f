package org.adjoint.cuda.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.Random;

import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.UnaryOp;
import org.adjoint.conformance.CoreOnlyBackend;
import org.adjoint.cpu.CpuBackend;
import org.adjoint.cuda.CudaBackend;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Gather and scatter-add against the CPU bit for bit, and cast; the composed operations' default
 * bodies on the GPU's core against the CUDA backend's own kernels; backends per device ordinal.
 */
@Tag("gpu")
class CudaCoreTest {

    private final CudaBackend gpu = new CudaBackend();
    private final Backend coreOnly = new CoreOnlyBackend(gpu);
    private final Backend cpu = new CpuBackend();
    private final Random random = new Random(7);

    /**
     * Uploads of every size, many more in a row than the staging has slots for small ones, each
     * queued behind a kernel that reads the one before: each arrives as it was sent, although
     * the host refills a slot while earlier copies may still be queued.
     */
    @Test
    void manyUploadsInARowArriveIntact() {
        int[] sizes = {0, 1, 3, 1000, 1 << 14, (1 << 14) + 1, (1 << 20) + 5};
        int rounds = 100;
        Buffer[] negated = new Buffer[rounds];
        float[][] sent = new float[rounds][];
        for (int round = 0; round < rounds; round++) {
            sent[round] = values(sizes[round % sizes.length], -3, 3);
            if (sent[round].length > 0) {
                sent[round][0] = round;
            }
            Buffer uploaded = gpu.upload(sent[round]);
            negated[round] = gpu.allocate(sent[round].length);
            gpu.unary(UnaryOp.NEG, 0f, uploaded, negated[round]);
        }
        for (int round = 0; round < rounds; round++) {
            float[] back = gpu.download(negated[round]);
            assertEquals(sent[round].length, back.length, "upload " + round);
            for (int i = 0; i < back.length; i++) {
                if (back[i] != -sent[round][i]) {
                    fail("upload " + round + " of " + sent[round].length + " floats: element " + i + " came back as "
                            + -back[i] + ", sent " + sent[round][i]);
                }
            }
        }
    }

    /** Views the kernels would read past their buffers are refused on the host, before any launch. */
    @Test
    void stridedViewsThatReachPastTheirBuffersAreRefused() {
        Buffer six = gpu.upload(new float[] {1, 2, 3, 4, 5, 6});
        Buffer out = gpu.allocate(6);
        // [2, 3] read with strides (4, 1) ends at element 6 of 6.
        var binary = assertThrows(IllegalArgumentException.class, () -> gpu.binary(org.adjoint.backend.BinaryOp.ADD,
                six, new int[] {4, 1}, six, new int[] {3, 1}, out, new int[] {2, 3}));
        assertTrue(binary.getMessage().startsWith("cuda binary: the left operand view at offset 0 with strides [4, 1] "
                + "over [2, 3] reaches outside a buffer of 6 elements"), binary.getMessage());
        var copy = assertThrows(IllegalArgumentException.class,
                () -> gpu.copyStrided(six, 1, new int[] {3, 1}, out, 0, new int[] {2, 3}));
        assertTrue(copy.getMessage().startsWith("cuda copyStrided: the source view at offset 1"), copy.getMessage());
        assertArrayEquals(new float[6], gpu.download(out), "nothing written");
    }

    @Test
    void gatherAndScatterAddAlongTheMiddleAxis() {
        // {outer, length, inner, count}: repeated indices, rows, lanes, empty axes, more lanes than a block.
        int[][] shapes = {{3, 5, 4, 6}, {1, 4, 1, 50}, {40, 7, 1, 3}, {2, 3, 300, 5}, {2, 4, 3, 0}, {0, 3, 2, 4}};
        for (int[] shape : shapes) {
            int outer = shape[0];
            int length = shape[1];
            int inner = shape[2];
            int count = shape[3];
            String what = " [outer, length, inner, count] = " + Arrays.toString(shape);
            float[] src = values(outer * length * inner, -2, 2);
            float[] indices = new float[outer * count * inner];
            for (int i = 0; i < indices.length; i++) {
                indices[i] = random.nextInt(length);
            }
            Buffer expected = cpu.upload(values(indices.length, 5, 6));
            cpu.gather(cpu.upload(src), outer, length, inner, cpu.upload(indices), count, expected);
            Buffer actual = gpu.upload(cpu.download(expected));
            gpu.gather(gpu.upload(src), outer, length, inner, gpu.upload(indices), count, actual);
            assertBits(cpu.download(expected), gpu.download(actual), "gather" + what);

            // Magnitudes over many binades: a sum in another order than the CPU's would show.
            float[] values = values(indices.length, -1, 1);
            for (int i = 0; i < values.length; i++) {
                values[i] *= (float) Math.pow(10, i % 7 - 3);
            }
            Buffer expectedSums = cpu.upload(src);
            cpu.scatterAdd(cpu.upload(values), outer, count, inner, cpu.upload(indices), expectedSums, length);
            for (int run = 0; run < 2; run++) {
                Buffer actualSums = gpu.upload(src);
                gpu.scatterAdd(gpu.upload(values), outer, count, inner, gpu.upload(indices), actualSums, length);
                assertBits(cpu.download(expectedSums), gpu.download(actualSums), "scatterAdd run " + run + what);
            }
        }

        float[] src = values(12, -2, 2);
        Buffer copy = gpu.allocate(src.length);
        gpu.cast(gpu.upload(src), copy);
        assertClose(src, gpu.download(copy), 0, "cast");
    }

    @Test
    void anIndexTheCpuRefusesGivesNanInsteadOfAStrayAccess() {
        float[] indices = {2f, 3f, -1f, 0.5f};
        Buffer picked = gpu.allocate(indices.length);
        gpu.gather(gpu.upload(new float[] {10f, 11f, 12f}), 1, 3, 1, gpu.upload(indices), indices.length, picked);
        assertBits(new float[] {12f, Float.NaN, Float.NaN, Float.NaN}, gpu.download(picked), "gather");
        // Lane 0 of two (inner 2) meets the index 3 in a length of 3; lane 1 adds 1 and 2 at 0 and 2.
        Buffer sums = gpu.allocate(6);
        gpu.fill(sums, 0f);
        gpu.scatterAdd(gpu.upload(new float[] {5f, 1f, 6f, 2f}), 1, 2, 2, gpu.upload(new float[] {3f, 0f, 1f, 2f}),
                sums, 3);
        assertBits(new float[] {Float.NaN, 1f, Float.NaN, 0f, Float.NaN, 2f}, gpu.download(sums), "scatterAdd");
    }

    @Test
    void theComposedDefaultsOnTheGpuCoreMatchTheGpuKernels() {
        int rows = 37;
        int cols = 11;
        float[] x = values(rows * cols, -5, 5);
        for (boolean log : new boolean[] {false, true}) {
            compare(backend -> {
                Buffer out = backend.allocate(x.length);
                backend.softmax(backend.upload(x), 1, rows, cols, log, out);
                return out;
            }, 1e-6, log ? "logSoftmax" : "softmax");
        }
        float[] bias = values(cols, -1, 1);
        for (UnaryOp activation : new UnaryOp[] {null, UnaryOp.RELU, UnaryOp.TANH, UnaryOp.SIGMOID}) {
            compare(backend -> {
                Buffer y = backend.upload(x);
                backend.biasActivation(activation, y, backend.upload(bias), rows, cols);
                return y;
            }, 1e-6, "biasActivation " + activation);
            float[] cotangent = values(x.length, -1, 1);
            compare(backend -> {
                Buffer out = backend.allocate(x.length);
                backend.activationGrad(activation, backend.upload(x), backend.upload(cotangent), out);
                return out;
            }, 1e-5, "activationGrad " + activation);
        }
        Buffer logProbabilities = cpu.allocate(x.length);
        cpu.softmax(cpu.upload(x), rows, cols, 1, true, logProbabilities);
        float[] logProbabilityValues = cpu.download(logProbabilities);
        float[] labels = new float[rows];
        for (int r = 0; r < rows; r++) {
            labels[r] = random.nextInt(cols);
        }
        compare(backend -> {
            Buffer out = backend.allocate(1);
            backend.negativeLogLikelihood(backend.upload(logProbabilityValues), backend.upload(labels), rows, cols, out);
            return out;
        }, 1e-6, "negativeLogLikelihood");
        compare(backend -> {
            Buffer out = backend.allocate(x.length);
            backend.crossEntropyGrad(backend.upload(logProbabilityValues), backend.upload(labels), rows, cols, 0.25f, out);
            return out;
        }, 1e-7, "crossEntropyGrad");
        float[] addend = values(x.length, -1, 1);
        compare(backend -> {
            Buffer y = backend.upload(x);
            backend.axpy(-0.5f, backend.upload(addend), y);
            return y;
        }, 1e-6, "axpy");
    }

    /**
     * Layer norm's kernels against the CPU's, within float rounding: a row's sums go over a
     * block, and the CPU's vector provider fuses the weight gradient's multiply-adds; and the
     * SPI's composed default on the GPU against the CPU.
     */
    @Test
    void layerNormKernelsAgainstTheCpu() {
        // The last adds the weight gradient's rows in parts (CudaKernels.layerNormRowsPerPart).
        int[][] shapes = {{1, 1}, {5, 7}, {64, 384}, {3, 1031}, {1000, 96}};
        for (int[] shape : shapes) {
            int rows = shape[0];
            int size = shape[1];
            String what = " [rows, size] = " + Arrays.toString(shape);
            float[] x = values(rows * size, -3, 5);
            float[] weight = values(size, -2, 2);
            float[] bias = values(size, -1, 1);
            float[] dy = values(rows * size, -1, 1);
            Buffer[] cpuOut = {cpu.allocate(rows * size), cpu.allocate(rows), cpu.allocate(rows)};
            cpu.layerNorm(cpu.upload(x), cpu.upload(weight), cpu.upload(bias), rows, size, 1e-5f, cpuOut[0], cpuOut[1],
                    cpuOut[2]);
            for (Backend backend : new Backend[] {gpu, coreOnly}) {
                String where = (backend == gpu ? "kernels" : "composed default") + what;
                Buffer[] out = {backend.allocate(rows * size), backend.allocate(rows), backend.allocate(rows)};
                backend.layerNorm(backend.upload(x), backend.upload(weight), backend.upload(bias), rows, size, 1e-5f,
                        out[0], out[1], out[2]);
                assertClose(cpu.download(cpuOut[0]), backend.download(out[0]), 2e-5, "layerNorm output, " + where);
                assertClose(cpu.download(cpuOut[1]), backend.download(out[1]), 1e-6, "layerNorm mean, " + where);
                assertClose(cpu.download(cpuOut[2]), backend.download(out[2]), 2e-6, "layerNorm rstd, " + where);
            }
            // The gradients from the same statistics on both devices.
            float[] mean = cpu.download(cpuOut[1]);
            float[] rstd = cpu.download(cpuOut[2]);
            Buffer cpuDx = cpu.allocate(rows * size);
            Buffer cpuDweight = cpu.allocate(size);
            cpu.layerNormGrad(cpu.upload(x), cpu.upload(weight), cpu.upload(mean), cpu.upload(rstd), cpu.upload(dy), rows,
                    size, cpuDx, cpuDweight);
            Buffer dx = gpu.allocate(rows * size);
            Buffer dweight = gpu.allocate(size);
            gpu.layerNormGrad(gpu.upload(x), gpu.upload(weight), gpu.upload(mean), gpu.upload(rstd), gpu.upload(dy),
                    rows, size, dx, dweight);
            assertClose(cpu.download(cpuDx), gpu.download(dx), 2e-5, "layerNormGrad dx" + what);
            assertClose(cpu.download(cpuDweight), gpu.download(dweight), 2e-5 * Math.sqrt(rows),
                    "layerNormGrad dweight" + what);
            Buffer onlyDx = gpu.allocate(rows * size);
            gpu.layerNormGrad(gpu.upload(x), null, gpu.upload(mean), gpu.upload(rstd), gpu.upload(dy), rows, size,
                    onlyDx, null);
            Buffer cpuOnlyDx = cpu.allocate(rows * size);
            cpu.layerNormGrad(cpu.upload(x), null, cpu.upload(mean), cpu.upload(rstd), cpu.upload(dy), rows, size,
                    cpuOnlyDx, null);
            assertClose(cpu.download(cpuOnlyDx), gpu.download(onlyDx), 2e-5, "layerNormGrad without weight" + what);
        }
    }

    @Test
    void eachDeviceOrdinalIsItsOwnBackend() {
        assertEquals("cuda:" + Integer.getInteger("adjoint.cuda.device", 0), gpu.device());
        CudaBackend first = CudaBackend.onDevice(0);
        assertEquals("cuda:0", first.device());
        assertTrue(first.unavailableReason().isEmpty(), () -> first.unavailableReason().orElseThrow());
        float[] data = values(100, -1, 1);
        assertClose(data, first.download(first.upload(data)), 0, "ordinal 0 round trip");
        CudaBackend missing = CudaBackend.onDevice(1000);
        String reason = missing.unavailableReason().orElseThrow();
        assertTrue(reason.startsWith("device ordinal 1000 names no device: there "), reason);
    }

    private interface Run {
        Buffer on(Backend backend);
    }

    private void compare(Run run, double tolerance, String label) {
        assertClose(gpu.download(run.on(gpu)), gpu.download(run.on(coreOnly)), tolerance, label);
    }

    private float[] values(int length, float low, float high) {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = low + (high - low) * random.nextFloat();
        }
        return values;
    }

    /** The same bits, except that any NaN equals any NaN. */
    private static void assertBits(float[] expected, float[] actual, String label) {
        assertEquals(expected.length, actual.length, label + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                fail(label + ": element " + i + " expected " + expected[i] + ", got " + actual[i]);
            }
        }
    }

    private static void assertClose(float[] expected, float[] actual, double tolerance, String label) {
        assertEquals(expected.length, actual.length, label + ": length");
        for (int i = 0; i < expected.length; i++) {
            double scale = Math.max(1, Math.abs(expected[i]));
            if (!(Math.abs(expected[i] - actual[i]) <= tolerance * scale)) {
                fail(label + ": element " + i + " expected " + expected[i] + ", got " + actual[i]);
            }
        }
    }
}
