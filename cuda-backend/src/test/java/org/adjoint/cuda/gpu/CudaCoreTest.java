package org.adjoint.cuda.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

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
 * The parts of the backend SPI that the CUDA backend meets without kernels of its own: gather,
 * scatter-add and cast against the CPU; the composed operations' default bodies on the GPU's
 * core against the CUDA backend's own kernels; backends per device ordinal.
 */
@Tag("gpu")
class CudaCoreTest {

    private final CudaBackend gpu = new CudaBackend();
    private final Backend coreOnly = new CoreOnlyBackend(gpu);
    private final Backend cpu = new CpuBackend();
    private final Random random = new Random(7);

    @Test
    void gatherAndScatterAddAlongTheMiddleAxis() {
        int outer = 3;
        int length = 5;
        int inner = 4;
        int count = 6;
        float[] src = values(outer * length * inner, -2, 2);
        float[] indices = new float[outer * count * inner];
        for (int i = 0; i < indices.length; i++) {
            indices[i] = random.nextInt(length);
        }
        Buffer expected = cpu.allocate(indices.length);
        cpu.gather(cpu.upload(src), outer, length, inner, cpu.upload(indices), count, expected);
        Buffer actual = gpu.allocate(indices.length);
        gpu.gather(gpu.upload(src), outer, length, inner, gpu.upload(indices), count, actual);
        assertClose(cpu.download(expected), gpu.download(actual), 0, "gather");

        float[] values = values(indices.length, -1, 1);
        Buffer expectedSums = cpu.upload(src);
        cpu.scatterAdd(cpu.upload(values), outer, count, inner, cpu.upload(indices), expectedSums, length);
        Buffer actualSums = gpu.upload(src);
        gpu.scatterAdd(gpu.upload(values), outer, count, inner, gpu.upload(indices), actualSums, length);
        assertClose(cpu.download(expectedSums), gpu.download(actualSums), 0, "scatterAdd");

        Buffer copy = gpu.allocate(src.length);
        gpu.cast(gpu.upload(src), copy);
        assertClose(src, gpu.download(copy), 0, "cast");
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
