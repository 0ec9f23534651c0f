package org.adjoint.cuda.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.Random;

import org.adjoint.backend.Backend;
import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.UnaryOp;
import org.adjoint.cpu.CpuBackend;
import org.adjoint.cuda.CudaBackend;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Every {@link Backend} method on the GPU against the CPU backend, on awkward sizes (0, 1,
 * primes, block and transfer-chunk boundaries), so that a failure names the method and the
 * case rather than a whole training step.
 */
@Tag("gpu")
class CudaVersusCpuTest {

    private static final int[] LENGTHS = {0, 1, 7, 255, 256, 257, 1000, 65_537, 1_048_577};
    private final CudaBackend gpu = new CudaBackend();
    private final Backend cpu = new CpuBackend();
    private final Random random = new Random(42);

    @Test
    void uploadAndDownloadRoundTripAcrossStagingChunks() {
        int chunk = 1 << 20;
        for (int length : new int[] {0, 1, 5, chunk - 1, chunk, chunk + 1, 2 * chunk + chunk / 2, 5 * chunk + 3}) {
            float[] data = values(length, -10, 10);
            assertArrayEquals(data, gpu.download(gpu.upload(data)), "length " + length);
        }
    }

    @Test
    void allocateIsZeroAndFillSetsEveryElement() {
        for (int length : LENGTHS) {
            Buffer buffer = gpu.allocate(length);
            assertArrayEquals(new float[length], gpu.download(buffer), "allocate " + length);
            gpu.fill(buffer, -2.5f);
            float[] expected = new float[length];
            Arrays.fill(expected, -2.5f);
            assertArrayEquals(expected, gpu.download(buffer), "fill " + length);
        }
    }

    @Test
    void gemmInEveryTransposeCaseAndBatchLayout() {
        int[][] sizes = {{1, 1, 1}, {1, 7, 3}, {5, 1, 4}, {17, 33, 9}, {64, 128, 32}, {129, 257, 300}, {3, 4, 0}};
        for (boolean transA : new boolean[] {false, true}) {
            for (boolean transB : new boolean[] {false, true}) {
                for (int[] size : sizes) {
                    gemmCase(transA, transB, 1, size[0], size[1], size[2], false, false, 0f);
                    gemmCase(transA, transB, 1, size[0], size[1], size[2], false, false, 0.5f);
                }
                gemmCase(transA, transB, 3, 6, 5, 4, false, false, 0f);
                gemmCase(transA, transB, 4, 7, 3, 5, true, false, 1f);
                gemmCase(transA, transB, 2, 9, 11, 13, false, true, 0.25f);
            }
        }
    }

    private void gemmCase(boolean transA, boolean transB, int batch, int m, int n, int k, boolean shareA, boolean shareB,
                          float beta) {
        long aStride = shareA ? 0 : (long) m * k;
        long bStride = shareB ? 0 : (long) k * n;
        long cStride = (long) m * n;
        float[] a = values((int) Math.max(m * k, batch * aStride), -1, 1);
        float[] b = values((int) Math.max(k * n, batch * bStride), -1, 1);
        float[] c = values(batch * m * n, -1, 1);
        String label = "gemm transA=" + transA + " transB=" + transB + " batch=" + batch + " m=" + m + " n=" + n + " k="
                + k + " shareA=" + shareA + " shareB=" + shareB + " beta=" + beta;
        Buffer expected = cpu.upload(c);
        cpu.gemm(transA, transB, batch, m, n, k, 1.25f, cpu.upload(a), aStride, cpu.upload(b), bStride, beta, expected,
                cStride);
        Buffer actual = gpu.upload(c);
        gpu.gemm(transA, transB, batch, m, n, k, 1.25f, gpu.upload(a), aStride, gpu.upload(b), bStride, beta, actual,
                cStride);
        assertClose(cpu.download(expected), gpu.download(actual), 2e-6 * (k + 1) + 1e-6, label);
    }

    @Test
    void anEmptyInnerDimensionScalesCOnceAsTheCpuDoes() {
        // k = 0: C = beta·C rounded once. The device added (beta - 1)·C, which lost a tiny beta
        // (1 - 1e-8 is 1 in float) and turned infinities into NaN.
        float[] c = {1f, -2.5f, 3e38f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e-30f, 0.1f, -0f, 7f, 1.5e-45f,
            Float.NaN, 12345.678f};
        for (float beta : new float[] {1e-8f, 0.5f, -3f, 0.1f}) {
            for (int batch : new int[] {1, 2}) {
                int m = 3, n = 2;
                Buffer expected = cpu.upload(c);
                cpu.gemm(false, false, batch, m, n, 0, 1f, cpu.allocate(1), 0, cpu.allocate(1), 0, beta, expected,
                        (long) m * n);
                Buffer actual = gpu.upload(c);
                gpu.gemm(false, false, batch, m, n, 0, 1f, gpu.allocate(1), 0, gpu.allocate(1), 0, beta, actual,
                        (long) m * n);
                assertArrayEquals(cpu.download(expected), gpu.download(actual), "k = 0, beta " + beta + ", batch "
                        + batch);
            }
        }
    }

    @Test
    void unaryFunctions() {
        for (UnaryOp op : UnaryOp.values()) {
            boolean positive = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.POW;
            for (float parameter : op == UnaryOp.POW ? new float[] {2f, 0.5f, 3f, -1f} : new float[] {0f}) {
                for (int length : new int[] {0, 1, 257, 65_537}) {
                    float[] x = positive ? values(length, 0.01f, 5) : values(length, -5, 5);
                    Buffer expected = cpu.allocate(length);
                    cpu.unary(op, parameter, cpu.upload(x), expected);
                    Buffer actual = gpu.allocate(length);
                    gpu.unary(op, parameter, gpu.upload(x), actual);
                    assertClose(cpu.download(expected), gpu.download(actual), 2e-6,
                            op + "(" + parameter + ") length " + length);
                }
            }
        }
        float[] x = values(1000, -3, 3);
        Buffer inPlace = gpu.upload(x);
        gpu.unary(UnaryOp.NEG, 0, inPlace, inPlace);
        Buffer expected = cpu.upload(x);
        cpu.unary(UnaryOp.NEG, 0, expected, expected);
        assertArrayEquals(cpu.download(expected), gpu.download(inPlace), "in place");
    }

    @Test
    void axpy() {
        for (int length : LENGTHS) {
            float[] x = values(length, -1, 1);
            float[] y = values(length, -1, 1);
            Buffer expected = cpu.upload(y);
            cpu.axpy(-0.75f, cpu.upload(x), expected);
            Buffer actual = gpu.upload(y);
            gpu.axpy(-0.75f, gpu.upload(x), actual);
            assertClose(cpu.download(expected), gpu.download(actual), 1e-6, "axpy " + length);
        }
    }

    @Test
    void binaryWithBroadcastingAndTransposedOperands() {
        int[][][] cases = {
            // shape, lhs strides, rhs strides
            {{3, 4, 5}, {20, 5, 1}, {20, 5, 1}},
            {{3, 4, 5}, {5, 0, 1}, {0, 1, 0}},
            {{7, 9}, {1, 7}, {9, 1}},
            {{1}, {0}, {0}},
            {{}, {}, {}},
            {{2, 0, 3}, {0, 3, 1}, {0, 3, 1}},
            {{257, 3}, {3, 1}, {0, 1}},
            // Rank 9 that merges to rank 2 (the kernels take 8 axes).
            {{2, 3, 2, 3, 2, 3, 2, 3, 2}, {1296, 432, 216, 72, 36, 12, 6, 2, 1}, {0, 0, 0, 0, 0, 0, 0, 0, 1}},
        };
        for (BinaryOp op : BinaryOp.values()) {
            for (int[][] c : cases) {
                int[] shape = c[0];
                int count = Arrays.stream(shape).reduce(1, (p, q) -> p * q);
                float[] lhs = values(reach(shape, c[1]), -2, 2);
                float[] rhs = values(reach(shape, c[2]), 0.5f, 2);
                Buffer expected = cpu.allocate(count);
                cpu.binary(op, cpu.upload(lhs), c[1], cpu.upload(rhs), c[2], expected, shape);
                Buffer actual = gpu.allocate(count);
                gpu.binary(op, gpu.upload(lhs), c[1], gpu.upload(rhs), c[2], actual, shape);
                assertArrayEquals(cpu.download(expected), gpu.download(actual),
                        op + " " + Arrays.toString(shape) + " " + Arrays.toString(c[1]) + " " + Arrays.toString(c[2]));
            }
        }
    }

    @Test
    void copyStridedTransposesAndBroadcasts() {
        int[][][] cases = {{{4, 6}, {1, 4}}, {{3, 5, 7}, {0, 7, 1}}, {{1000, 3}, {1, 1000}}, {{}, {}}, {{5, 0}, {0, 1}}};
        for (int[][] c : cases) {
            int[] shape = c[0];
            int count = Arrays.stream(shape).reduce(1, (p, q) -> p * q);
            float[] src = values(reach(shape, c[1]), -1, 1);
            Buffer expected = cpu.allocate(count);
            cpu.copyStrided(cpu.upload(src), c[1], expected, shape);
            Buffer actual = gpu.allocate(count);
            gpu.copyStrided(gpu.upload(src), c[1], actual, shape);
            assertArrayEquals(cpu.download(expected), gpu.download(actual), Arrays.toString(shape));
        }
    }

    @Test
    void sumToOverEveryAxisPattern() {
        int[] shape = {4, 5, 6};
        int[][] outStrides = {{0, 0, 0}, {0, 1, 0}, {6, 0, 1}, {30, 6, 1}, {5, 1, 0}, {0, 6, 1}, {1, 0, 0}};
        for (int[] strides : outStrides) {
            sumCase(shape, strides);
        }
        sumCase(new int[] {1000, 257}, new int[] {0, 1});
        sumCase(new int[] {257, 1000}, new int[] {1, 0});
        // Long sums with few outputs are split into partial sums, in one pass or several.
        sumCase(new int[] {1_048_577}, new int[] {0});
        sumCase(new int[] {4096, 512}, new int[] {0, 1});
        sumCase(new int[] {3, 700, 5}, new int[] {5, 0, 1});
        sumCase(new int[] {600, 7, 40}, new int[] {0, 1, 7});
        sumCase(new int[] {3, 1, 4}, new int[] {4, 0, 1});
        sumCase(new int[] {0, 3}, new int[] {0, 1});
        sumCase(new int[] {}, new int[] {});
    }

    private void sumCase(int[] shape, int[] outStrides) {
        int count = Arrays.stream(shape).reduce(1, (p, q) -> p * q);
        int outCount = 1;
        for (int axis = 0; axis < shape.length; axis++) {
            if (outStrides[axis] != 0) {
                outCount *= shape[axis];
            }
        }
        float[] src = values(count, -1, 1);
        Buffer expected = cpu.upload(values(outCount, 5, 6));
        cpu.sumTo(cpu.upload(src), shape, expected, outStrides);
        Buffer actual = gpu.upload(values(outCount, 5, 6));
        gpu.sumTo(gpu.upload(src), shape, actual, outStrides);
        String label = "sumTo " + Arrays.toString(shape) + " " + Arrays.toString(outStrides);
        float[] onGpu = gpu.download(actual);
        // Against the exact sums, with a tolerance that the GPU's split sums (and sums of a few
        // hundred elements in any order) stay well inside; the CPU adds long sums one after
        // another, whose rounding grows faster, hence its looser bound below.
        assertClose(exactSums(src, shape, outStrides, outCount), onGpu, 1e-5 * Math.sqrt(count) + 1e-6, label);
        assertClose(cpu.download(expected), onGpu, 1e-4 * Math.sqrt(count) + 1e-6, label + " against the CPU");
    }

    @Test
    void maxWithMaskAndWithout() {
        int[][] layouts = {{1, 1, 1}, {3, 4, 5}, {1, 1000, 1}, {257, 3, 1}, {2, 7, 300}};
        for (int[] layout : layouts) {
            int outer = layout[0];
            int length = layout[1];
            int inner = layout[2];
            float[] x = values(outer * length * inner, -3, 3);
            // Ties: the first maximal element carries the mask.
            if (x.length > 2 && inner == 1 && length > 2) {
                x[1] = x[0] = 7f;
            }
            Buffer values = cpu.allocate((long) outer * inner);
            Buffer mask = cpu.allocate(x.length);
            cpu.max(cpu.upload(x), outer, length, inner, values, mask);
            Buffer gpuValues = gpu.allocate((long) outer * inner);
            Buffer gpuMask = gpu.upload(values(x.length, 2, 3));
            gpu.max(gpu.upload(x), outer, length, inner, gpuValues, gpuMask);
            String label = "max " + Arrays.toString(layout);
            assertArrayEquals(cpu.download(values), gpu.download(gpuValues), label);
            assertArrayEquals(cpu.download(mask), gpu.download(gpuMask), label + " mask");
            Buffer noMask = gpu.allocate((long) outer * inner);
            gpu.max(gpu.upload(x), outer, length, inner, noMask, null);
            assertArrayEquals(cpu.download(values), gpu.download(noMask), label + " without mask");
        }
    }

    @Test
    void softmaxAndLogSoftmaxOnLanesAndOnLongRows() {
        int[][] layouts = {{1, 1, 1}, {3, 4, 5}, {16, 10, 1}, {64, 127, 1}, {64, 128, 1}, {3, 5000, 1}, {2, 300, 7}};
        for (int[] layout : layouts) {
            for (boolean log : new boolean[] {false, true}) {
                float[] x = values(layout[0] * layout[1] * layout[2], -20, 20);
                Buffer expected = cpu.allocate(x.length);
                cpu.softmax(cpu.upload(x), layout[0], layout[1], layout[2], log, expected);
                Buffer actual = gpu.allocate(x.length);
                gpu.softmax(gpu.upload(x), layout[0], layout[1], layout[2], log, actual);
                assertClose(cpu.download(expected), gpu.download(actual), 2e-6,
                        (log ? "logSoftmax " : "softmax ") + Arrays.toString(layout));
            }
        }
    }

    @Test
    void biasActivationAndItsGradient() {
        for (UnaryOp activation : new UnaryOp[] {null, UnaryOp.RELU, UnaryOp.TANH, UnaryOp.SIGMOID}) {
            for (int[] size : new int[][] {{1, 1}, {7, 13}, {256, 1024}, {3, 0}}) {
                int rows = size[0];
                int cols = size[1];
                float[] y = values(rows * cols, -3, 3);
                float[] bias = values(cols, -1, 1);
                for (boolean withBias : new boolean[] {true, false}) {
                    Buffer expected = cpu.upload(y);
                    cpu.biasActivation(activation, expected, withBias ? cpu.upload(bias) : null, rows, cols);
                    Buffer actual = gpu.upload(y);
                    gpu.biasActivation(activation, actual, withBias ? gpu.upload(bias) : null, rows, cols);
                    String label = activation + " " + rows + "x" + cols + (withBias ? " with bias" : "");
                    float[] outputs = cpu.download(expected);
                    assertClose(outputs, gpu.download(actual), 2e-6, label);

                    float[] cotangent = values(rows * cols, -1, 1);
                    Buffer expectedGrad = cpu.allocate(rows * cols);
                    cpu.activationGrad(activation, cpu.upload(outputs), cpu.upload(cotangent), expectedGrad);
                    Buffer actualGrad = gpu.allocate(rows * cols);
                    gpu.activationGrad(activation, gpu.upload(outputs), gpu.upload(cotangent), actualGrad);
                    assertClose(cpu.download(expectedGrad), gpu.download(actualGrad), 1e-6, label + " gradient");
                }
            }
        }
    }

    @Test
    void negativeLogLikelihoodAndCrossEntropyGradient() {
        for (int[] size : new int[][] {{1, 1}, {1, 10}, {256, 10}, {1000, 37}, {3, 1000}}) {
            int rows = size[0];
            int cols = size[1];
            Buffer logits = cpu.upload(values(rows * cols, -5, 5));
            Buffer logp = cpu.allocate((long) rows * cols);
            cpu.softmax(logits, rows, cols, 1, true, logp);
            float[] logProbabilities = cpu.download(logp);
            float[] labels = new float[rows];
            for (int r = 0; r < rows; r++) {
                labels[r] = random.nextInt(cols);
            }
            Buffer expected = cpu.allocate(1);
            cpu.negativeLogLikelihood(cpu.upload(logProbabilities), cpu.upload(labels), rows, cols, expected);
            Buffer actual = gpu.allocate(1);
            gpu.negativeLogLikelihood(gpu.upload(logProbabilities), gpu.upload(labels), rows, cols, actual);
            String label = rows + "x" + cols;
            assertClose(cpu.download(expected), gpu.download(actual), 1e-6, "nll " + label);

            Buffer expectedGrad = cpu.allocate((long) rows * cols);
            cpu.crossEntropyGrad(cpu.upload(logProbabilities), cpu.upload(labels), rows, cols, 1f / rows, expectedGrad);
            Buffer actualGrad = gpu.allocate((long) rows * cols);
            gpu.crossEntropyGrad(gpu.upload(logProbabilities), gpu.upload(labels), rows, cols, 1f / rows, actualGrad);
            assertClose(cpu.download(expectedGrad), gpu.download(actualGrad), 1e-7, "cross-entropy gradient " + label);
        }
    }

    @Test
    void releaseReturnsBlocksForReuseAndTheStatisticsFollow() throws InterruptedException {
        long before = settledBytesInUse();
        Buffer first = gpu.allocate(1 << 20);
        var afterAllocate = gpu.memoryStats();
        assertEquals(before + (4L << 20), afterAllocate.bytesInUse());
        gpu.release(first);
        var afterRelease = gpu.memoryStats();
        assertEquals(before, afterRelease.bytesInUse(), "released at once");
        Buffer second = gpu.allocate(1 << 20);
        var afterReuse = gpu.memoryStats();
        assertEquals(afterRelease.deviceAllocations(), afterReuse.deviceAllocations(), "served from the cache");
        assertArrayEquals(new float[1 << 20], gpu.download(second), "a reused block is zeroed again");
        gpu.release(second);
        gpu.release(second);
        gpu.resetPeakMemoryStats();
        assertEquals(gpu.memoryStats().bytesInUse(), gpu.memoryStats().peakBytesInUse());
        gpu.emptyCache();
        assertEquals(0, gpu.memoryStats().bytesCached());
    }

    /** Elements a strided operand needs: one past its largest offset. */
    private static int reach(int[] shape, int[] strides) {
        long last = 0;
        for (int axis = 0; axis < shape.length; axis++) {
            if (shape[axis] == 0) {
                return 0;
            }
            last += (long) (shape[axis] - 1) * strides[axis];
        }
        return (int) last + 1;
    }

    private float[] values(int length, float low, float high) {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = low + random.nextFloat() * (high - low);
        }
        return values;
    }

    /** Sums in double of {@code src} into the output that {@code outStrides} addresses. */
    private static float[] exactSums(float[] src, int[] shape, int[] outStrides, int outCount) {
        double[] sums = new double[outCount];
        for (int i = 0; i < src.length; i++) {
            int rest = i;
            int target = 0;
            for (int axis = shape.length - 1; axis >= 0; axis--) {
                target += rest % shape[axis] * outStrides[axis];
                rest /= shape[axis];
            }
            sums[target] += src[i];
        }
        float[] rounded = new float[outCount];
        for (int k = 0; k < outCount; k++) {
            rounded[k] = (float) sums[k];
        }
        return rounded;
    }

    /**
     * Bytes in use once the buffers that earlier tests dropped without releasing have come
     * back: a collector's cleaner returning one in the middle of the test would move "in use"
     * under it (seen on an H100: 198,144 bytes came back between two readings).
     */
    private long settledBytesInUse() throws InterruptedException {
        long previous = -1;
        for (int attempt = 0; attempt < 40; attempt++) {
            System.gc();
            Thread.sleep(50);
            gpu.synchronize();
            long now = gpu.memoryStats().bytesInUse();
            if (now == previous) {
                return now;
            }
            previous = now;
        }
        return previous;
    }

    private static void assertClose(float[] expected, float[] actual, double tolerance, String label) {
        assertEquals(expected.length, actual.length, label + ": length");
        for (int i = 0; i < expected.length; i++) {
            double allowed = tolerance * Math.max(1, Math.abs(expected[i]));
            boolean same = Float.compare(expected[i], actual[i]) == 0;
            if (!same && !(Math.abs(expected[i] - actual[i]) <= allowed)) {
                fail(label + ": element " + i + " expected " + expected[i] + " but was " + actual[i] + " (tolerance "
                        + allowed + ")");
            }
        }
    }
}
