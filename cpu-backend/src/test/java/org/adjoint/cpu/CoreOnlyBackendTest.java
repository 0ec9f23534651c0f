package org.adjoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

import org.adjoint.DType;
import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.BackendCore;
import org.adjoint.conformance.BackendConformance;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.FusedAdam;
import org.adjoint.backend.UnaryOp;
import org.adjoint.conformance.CoreOnlyBackend;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Losses;
import org.adjoint.optim.Adam;
import org.adjoint.optim.Optimizer;
import org.adjoint.optim.SGD;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A backend that implements only {@link BackendCore} is a complete backend: the composed
 * operations' default bodies give the CPU backend's values (within float32 rounding, since
 * they round in other places), and a small MLP trains to the same parameters.
 */
class CoreOnlyBackendTest {

    private static final CpuBackend CPU = new CpuBackend();
    private static final CoreOnlyBackend CORE = new CoreOnlyBackend(new CpuBackend());

    @Test
    void theTestBackendImplementsTheCoreAndNothingMore() {
        Set<String> abstractCore = new TreeSet<>();
        for (Method method : BackendCore.class.getMethods()) {
            if (Modifier.isAbstract(method.getModifiers())) {
                abstractCore.add(method.getName());
            }
        }
        Set<String> implemented = new TreeSet<>();
        for (Method method : CoreOnlyBackend.class.getDeclaredMethods()) {
            if (!method.isSynthetic()) {
                implemented.add(method.getName());
            }
        }
        assertEquals(abstractCore, implemented);
        assertFalse(Backend.class.isAssignableFrom(FusedAdam.class));
        assertFalse(FusedAdam.class.isInstance(CORE));
    }

    @Test
    void softmaxAndLogSoftmaxAlongEveryAxis() {
        int[] shape = {3, 7, 5};
        float[] data = values(3 * 7 * 5, 1, -20, 20);
        for (int axis = 0; axis < shape.length; axis++) {
            int along = axis;
            assertClose(on(CPU, () -> Tensor.of(data, shape).softmax(along)),
                    on(CORE, () -> Tensor.of(data, shape).softmax(along)), 1e-6, "softmax axis " + axis);
            assertClose(on(CPU, () -> Tensor.of(data, shape).logSoftmax(along)),
                    on(CORE, () -> Tensor.of(data, shape).logSoftmax(along)), 1e-5, "logSoftmax axis " + axis);
        }
    }

    @Test
    void crossEntropyValueAndGradient() {
        int rows = 13;
        int classes = 10;
        float[] logits = values(rows * classes, 2, -4, 4);
        int[] labels = new int[rows];
        for (int r = 0; r < rows; r++) {
            labels[r] = (r * 7 + 3) % classes;
        }
        Function<Backend, float[][]> run = backend -> on(backend, () -> {
            Tensor z = Tensor.of(logits, rows, classes).requiresGrad(true);
            Tensor loss = Losses.crossEntropy(z, labels);
            loss.backward();
            return new float[][] {loss.toFloatArray(), z.grad().toFloatArray()};
        });
        float[][] expected = run.apply(CPU);
        float[][] actual = run.apply(CORE);
        assertClose(expected[0], actual[0], 1e-6, "loss");
        assertClose(expected[1], actual[1], 1e-7, "gradient");
    }

    @Test
    void linearLayerWithEachActivationForwardAndBackward() {
        for (Activation activation : Activation.values()) {
            Function<Backend, float[][]> run = backend -> on(backend, () -> {
                Linear layer = new Linear(6, 5, activation, 11);
                Tensor x = Tensor.of(values(4 * 6, 3, -2, 2), 4, 6).requiresGrad(true);
                Tensor y = layer.apply(x);
                y.mul(Tensor.of(values(4 * 5, 4, -1, 1), 4, 5)).sum().backward();
                List<float[]> out = new ArrayList<>(List.of(y.toFloatArray(), x.grad().toFloatArray()));
                layer.parameters().forEach(p -> out.add(p.grad().toFloatArray()));
                return out.toArray(float[][]::new);
            });
            float[][] expected = run.apply(CPU);
            float[][] actual = run.apply(CORE);
            for (int i = 0; i < expected.length; i++) {
                assertClose(expected[i], actual[i], 1e-6, activation + " output " + i);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sgd", "adam"})
    void aSmallMlpTrainsToTheSameParameters(String optimizer) {
        Function<Backend, List<float[]>> train = backend -> on(backend, () -> {
            Linear hidden = new Linear(8, 16, Activation.TANH, 1);
            Linear output = new Linear(16, 4, Activation.IDENTITY, 2);
            List<Tensor> parameters = new ArrayList<>(hidden.parameters());
            parameters.addAll(output.parameters());
            Optimizer step = optimizer.equals("sgd") ? new SGD(parameters, 0.1f, 0.9f) : new Adam(parameters, 0.01f);
            Tensor x = Tensor.of(values(32 * 8, 5, -1, 1), 32, 8);
            int[] labels = new int[32];
            for (int r = 0; r < labels.length; r++) {
                labels[r] = r % 4;
            }
            List<float[]> losses = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                step.zeroGrad();
                Tensor loss = Losses.crossEntropy(output.apply(hidden.apply(x)), labels);
                loss.backward();
                step.step();
                losses.add(loss.toFloatArray());
            }
            parameters.forEach(p -> losses.add(p.toFloatArray()));
            return losses;
        });
        List<float[]> expected = train.apply(CPU);
        List<float[]> actual = train.apply(CORE);
        for (int i = 0; i < expected.size(); i++) {
            assertClose(expected.get(i), actual.get(i), 1e-5, optimizer + " value " + i);
        }
        assertTrue(expected.get(4)[0] < expected.get(0)[0], "the loss falls: " + expected.get(0)[0] + " then "
                + expected.get(4)[0]);
    }

    @Test
    void everyComposedOperationMatchesTheCpuKernelsOnAwkwardSizes() {
        for (int[] size : new int[][] {{1, 1}, {1, 10}, {7, 13}, {64, 3}, {3, 0}, {0, 4}}) {
            int rows = size[0];
            int cols = size[1];
            String shape = rows + "x" + cols;
            float[] x = values(rows * cols, rows * 31L + cols, -4, 4);
            float[] bias = values(cols, 3, -1, 1);
            float[] cotangent = values(rows * cols, 4, -1, 1);
            float[] labels = new float[rows];
            for (int r = 0; r < rows && cols > 0; r++) {
                labels[r] = (r * 5 + 1) % cols;
            }
            for (boolean log : new boolean[] {false, true}) {
                compare(backend -> {
                    Buffer out = backend.allocate(x.length);
                    backend.softmax(backend.upload(x), rows, cols, 1, log, out);
                    return out;
                }, 1e-6, (log ? "logSoftmax " : "softmax ") + shape);
            }
            for (UnaryOp activation : new UnaryOp[] {null, UnaryOp.RELU, UnaryOp.TANH, UnaryOp.SIGMOID}) {
                compare(backend -> {
                    Buffer y = backend.upload(x);
                    backend.biasActivation(activation, y, backend.upload(bias), rows, cols);
                    return y;
                }, 1e-6, "biasActivation " + activation + " " + shape);
                compare(backend -> {
                    Buffer out = backend.allocate(x.length);
                    backend.activationGrad(activation, backend.upload(x), backend.upload(cotangent), out);
                    return out;
                }, 1e-6, "activationGrad " + activation + " " + shape);
            }
            if (cols > 0) {
                compare(backend -> {
                    Buffer out = backend.allocate(1);
                    backend.negativeLogLikelihood(backend.upload(x), backend.upload(labels), rows, cols, out);
                    return out;
                }, 1e-6, "negativeLogLikelihood " + shape);
                compare(backend -> {
                    Buffer out = backend.allocate(x.length);
                    backend.crossEntropyGrad(backend.upload(x), backend.upload(labels), rows, cols, -0.5f, out);
                    return out;
                }, 1e-6, "crossEntropyGrad " + shape);
            }
            compare(backend -> {
                Buffer y = backend.upload(x);
                backend.axpy(0.75f, backend.upload(cotangent), y);
                return y;
            }, 1e-6, "axpy " + shape);
        }
    }

    /** Runs one composed operation on the CPU backend's kernels and on the default body over its core. */
    private static void compare(Function<Backend, Buffer> run, double tolerance, String label) {
        assertClose(CPU.download(run.apply(CPU)), CORE.download(run.apply(CORE)), tolerance, label);
    }

    @Test
    void theDefaultsRefuseWhatTheyCannotCompute() {
        Buffer y = CORE.upload(new float[] {1, 2});
        var activation = assertThrows(IllegalArgumentException.class,
                () -> CORE.biasActivation(UnaryOp.EXP, y, null, 1, 2));
        assertEquals("biasActivation: EXP is not a fused activation (RELU, TANH, SIGMOID, or null for none)",
                activation.getMessage());
        var dtype = assertThrows(UnsupportedOperationException.class, () -> CORE.allocate(DType.BF16, 4));
        assertEquals("cpu backend: allocate: element type BF16 is not supported (only F32 is computed on so far)",
                dtype.getMessage());
    }

    private static <T> T on(Backend backend, java.util.function.Supplier<T> body) {
        return BackendConformance.using(backend, body);
    }

    private static float[] values(int n, long seed, float low, float high) {
        java.util.Random random = new java.util.Random(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = low + (high - low) * random.nextFloat();
        }
        return values;
    }

    private static void assertClose(Tensor expected, Tensor actual, double tolerance, String label) {
        assertClose(expected.toFloatArray(), actual.toFloatArray(), tolerance, label);
    }

    private static void assertClose(float[] expected, float[] actual, double tolerance, String label) {
        assertEquals(expected.length, actual.length, label + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.isNaN(expected[i]) && Float.isNaN(actual[i])) {
                continue;
            }
            double scale = Math.max(1, Math.abs(expected[i]));
            assertTrue(Math.abs(expected[i] - actual[i]) <= tolerance * scale, label + " element " + i + ": expected "
                    + expected[i] + ", got " + actual[i] + " (" + Arrays.toString(Arrays.copyOf(actual, 4)) + "...)");
        }
    }
}
