package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;

import org.adjoint.Tensor;
import org.adjoint.autodiff.Autodiff;
import org.adjoint.autodiff.GradCheck;
import org.adjoint.autodiff.GradMode;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Backends;
import org.adjoint.backend.PoolingOps;
import org.adjoint.internal.ops.PoolWindow;
import org.adjoint.nn.Functional;
import org.junit.jupiter.api.Test;

/**
 * {@link Functional#maxPool2d} and {@link Functional#avgPool2d} on every backend: values and
 * input gradients against PyTorch 1.13 ({@code reference/pooling_reference.py}) and against a
 * direct loop written here, ties, finite differences, forward mode against reverse mode,
 * second derivatives, tiling over images, views and the errors.
 */
public abstract class PoolingConformance extends BackendConformance {

    /** The cases of {@code pooling_reference.py}, with the same parameters. */
    private record Case(String name, int kernel, int stride, int padding) {
    }

    private static final List<Case> REFERENCE_CASES = List.of(new Case("k2s2", 2, 2, 0), new Case("k3s2p1", 3, 2, 1),
            new Case("k3s1", 3, 1, 0), new Case("odd", 2, 2, 0), new Case("oddpad", 3, 2, 1),
            new Case("ties", 3, 1, 1));

    private static Map<String, Tensor> reference() {
        return ReferenceFiles.load("reference/pooling.safetensors");
    }

    private static Tensor pool(boolean max, Tensor x, int kernel, int stride, int padding) {
        return max ? Functional.maxPool2d(x, kernel, stride, padding) : Functional.avgPool2d(x, kernel, stride, padding);
    }

    @Test
    void valuesAndGradientsMatchPyTorch() {
        Map<String, Tensor> ref = reference();
        for (Case c : REFERENCE_CASES) {
            for (boolean max : new boolean[] {true, false}) {
                String key = c.name() + "." + (max ? "max" : "avg");
                Tensor x = ref.get(c.name() + ".x").detach().requiresGrad(true);
                Tensor y = pool(max, x, c.kernel(), c.stride(), c.padding());
                Tensor expected = ref.get(key + ".y");
                assertClose(key + " values", y, expected, 1e-6);
                y.backward(ref.get(key + ".u"));
                assertClose(key + " input gradient", x.grad(), ref.get(key + ".dx"), 1e-5);
            }
        }
    }

    @Test
    void theFirstMaximumOfAWindowTakesTheGradient() {
        Tensor x = Tensor.of(new float[] {1, 1, 1, 1}, 1, 1, 2, 2).requiresGrad(true);
        Functional.maxPool2d(x, 2, 2, 0).sum().backward();
        assertTensor(x.grad(), shape(1, 1, 2, 2), 1, 0, 0, 0);

        // Overlapping windows over a row of ties: each window sends its gradient to its own first element.
        Tensor row = Tensor.of(new float[] {2, 2, 2, 2, 5}, 1, 1, 1, 5).requiresGrad(true);
        Tensor y = Functional.maxPool2d(row, 1, 1, 0);
        assertTensor(y, shape(1, 1, 1, 5), 2, 2, 2, 2, 5);
        Tensor wide = Tensor.of(new float[] {2, 2, 2, 2, 5, 1, 1, 1, 1, 1}, 1, 1, 2, 5).requiresGrad(true);
        Functional.maxPool2d(wide, 2, 1, 0).backward(Tensor.of(new float[] {1, 10, 100, 1000}, 1, 1, 1, 4));
        assertTensor(wide.grad(), shape(1, 1, 2, 5), 1, 10, 100, 0, 1000, 0, 0, 0, 0, 0);

        // Padding never wins, even over negative values.
        Tensor negative = Tensor.of(new float[] {-3, -1, -2, -4}, 1, 1, 2, 2).requiresGrad(true);
        Tensor padded = Functional.maxPool2d(negative, 2, 1, 1);
        assertTensor(padded, shape(1, 1, 3, 3), -3, -1, -1, -2, -1, -1, -2, -2, -4);
        padded.sum().backward();
        assertTensor(negative.grad(), shape(1, 1, 2, 2), 1, 4, 3, 1);
    }

    @Test
    void withoutATapeMaxPoolingGivesTheSameValues() {
        // Nothing records: the forward skips the mask, and must still give the recorded forward's bits.
        Tensor x = Tensor.randn(41, 3, 4, 9, 8);
        Tensor recorded = Functional.maxPool2d(x.detach().requiresGrad(true), 3, 2, 1);
        Tensor plain = Functional.maxPool2d(x, 3, 2, 1);
        try (var _ = GradMode.noGrad()) {
            Tensor inference = Functional.maxPool2d(x.detach().requiresGrad(true), 3, 2, 1);
            assertArrayEquals(recorded.toFloatArray(), inference.toFloatArray(), "no-grad max pooling");
        }
        assertArrayEquals(recorded.toFloatArray(), plain.toFloatArray(), "max pooling of a constant");
    }

    @Test
    void paddedZerosCountInTheAverage() {
        Tensor x = Tensor.of(new float[] {4, 8, 12, 16}, 1, 1, 2, 2);
        assertTensor(Functional.avgPool2d(x, 2, 2, 1), shape(1, 1, 2, 2), 1, 2, 3, 4);
    }

    @Test
    void matchesADirectLoopOverAwkwardSizes() {
        Random random = new Random(7);
        int[][] configs = {
            // N, C, H, W, kernel, stride, padding
            {1, 1, 1, 1, 1, 1, 0}, {2, 3, 5, 7, 2, 2, 0}, {3, 2, 7, 7, 3, 2, 1}, {1, 4, 6, 5, 3, 1, 0},
            {2, 1, 9, 4, 4, 3, 2}, {1, 2, 3, 11, 3, 3, 1}, {5, 1, 4, 4, 5, 1, 2}, {2, 2, 8, 8, 1, 2, 0},
        };
        for (int[] k : configs) {
            int[] inShape = {k[0], k[1], k[2], k[3]};
            for (boolean max : new boolean[] {true, false}) {
                float[] values = distinct(random, inShape);
                Tensor x = Tensor.of(values, inShape).requiresGrad(true);
                Direct direct = new Direct(max, inShape, k[4], k[5], k[6], values);
                Tensor y = pool(max, x, k[4], k[5], k[6]);
                String what = (max ? "maxPool2d " : "avgPool2d ") + java.util.Arrays.toString(k);
                assertArrayEquals(direct.outShape(), y.shape(), what + " shape");
                assertClose(what + " values", y, Tensor.of(direct.forward(), direct.outShape()), 1e-6);
                Tensor u = Tensor.randn(k[0] + 31L, direct.outShape());
                y.backward(u);
                assertClose(what + " gradient", x.grad(), Tensor.of(direct.backward(u.toFloatArray()), inShape), 1e-5);
            }
        }
    }

    @Test
    void finiteDifferencesAgreeWithTheGradient() {
        Random random = new Random(11);
        int[][] configs = {{2, 2, 4, 4, 2, 2, 0}, {1, 2, 5, 5, 3, 2, 1}, {1, 1, 4, 5, 3, 1, 0}, {2, 1, 5, 3, 2, 1, 1}};
        for (int[] k : configs) {
            int[] inShape = {k[0], k[1], k[2], k[3]};
            for (boolean max : new boolean[] {true, false}) {
                // Distinct values 0.1 apart: no step of the check moves a maximum.
                List<Tensor> at = List.of(Tensor.of(distinct(random, inShape), inShape));
                Function<List<Tensor>, Tensor> f = in -> pool(max, in.get(0), k[4], k[5], k[6]);
                GradCheck.finiteDifferences(f, at).assertPassed();
                GradCheck.adjointIdentity(f, at, 5).assertPassed();
                GradCheck.forwardMode(f, at, 9).assertPassed();
            }
        }
    }

    @Test
    void forwardModeIsTheWindowGatherOfTheTangent() {
        Random random = new Random(13);
        int[] inShape = {2, 2, 5, 5};
        float[] values = distinct(random, inShape);
        Tensor v = Tensor.randn(3, inShape);
        for (boolean max : new boolean[] {true, false}) {
            Direct direct = new Direct(max, inShape, 3, 2, 1, values);
            var jvp = Autodiff.jvp(t -> pool(max, t, 3, 2, 1), Tensor.of(values, inShape), v);
            // The JVP is linear in the tangent with the same operator as the forward for avg, the argmax pick for max.
            float[] expected = direct.apply(v.toFloatArray());
            assertClose((max ? "max" : "avg") + " jvp", jvp.tangent(), Tensor.of(expected, direct.outShape()), 1e-5);
        }
    }

    @Test
    void secondDerivativesOfASquaredPooling() {
        Random random = new Random(17);
        int[] inShape = {1, 1, 4, 4};
        float[] values = distinct(random, inShape);
        Tensor x = Tensor.of(values, inShape);
        Tensor v = Tensor.randn(19, inShape);
        for (boolean max : new boolean[] {true, false}) {
            Function<Tensor, Tensor> f = t -> pool(max, t, 3, 1, 1).pow(2f).sum();
            Direct direct = new Direct(max, inShape, 3, 1, 1, values);
            // f = |P x|², so H v = 2 Pᵀ P v, with P the average or, near x, the argmax pick.
            float[] hv = direct.backward(direct.apply(v.toFloatArray()));
            for (int i = 0; i < hv.length; i++) {
                hv[i] *= 2;
            }
            Tensor expected = Tensor.of(hv, inShape);
            String what = max ? "maxPool2d" : "avgPool2d";
            assertClose(what + " hvp (forward over reverse)", Autodiff.hvp(f, x, v), expected, 1e-4);
            Tensor reverseOverReverse = Autodiff.grad(t -> Autodiff.grad(f, t).mul(v).sum(), x);
            assertClose(what + " reverse over reverse", reverseOverReverse, expected, 1e-4);
        }
    }

    /** Three reverse passes: the third differentiates the rules of the second (the window gather's own VJP). */
    @Test
    void thirdDerivativesOfACubedPooling() {
        Random random = new Random(41);
        int[] inShape = {2, 1, 5, 4};
        float[] values = distinct(random, inShape);
        float[] w = Tensor.randn(43, inShape).toFloatArray();
        for (boolean max : new boolean[] {true, false}) {
            Function<Tensor, Tensor> f = t -> pool(max, t, 3, 2, 1).pow(3f).sum();
            // h(t) = <∇f(t), t> = 3 Σ (P t)³, and ∇<∇h(s), w> = 18 Pᵀ((P s) ⊙ (P w)).
            Tensor third = Autodiff.grad(s -> Autodiff.grad(t -> Autodiff.grad(f, t).mul(t).sum(), s)
                    .mul(Tensor.of(w, inShape)).sum(), Tensor.of(values, inShape));
            Direct direct = new Direct(max, inShape, 3, 2, 1, values);
            float[] y = direct.forward();
            float[] pw = direct.apply(w);
            for (int i = 0; i < y.length; i++) {
                y[i] *= 18 * pw[i];
            }
            assertClose((max ? "maxPool2d" : "avgPool2d") + " third derivative", third,
                    Tensor.of(direct.backward(y), inShape), 1e-4);
        }
    }

    @Test
    void severalTilesGiveTheSameResultsAsOne() {
        Random random = new Random(23);
        int[] inShape = {5, 3, 7, 6};
        float[] values = distinct(random, inShape);
        float[] u = Tensor.randn(29, 5, 3, 4, 3).toFloatArray();
        float[] v = Tensor.randn(31, inShape).toFloatArray();
        for (boolean max : new boolean[] {true, false}) {
            Direct direct = new Direct(max, inShape, 3, 2, 1, values);
            AtomicInteger unfolds = new AtomicInteger();
            Backends.use(countingUnfolds(backend(), unfolds));
            String previous = System.setProperty(PoolWindow.TILE_PROPERTY, "500");  // one image's columns: 3·9·12 = 324
            try {
                Tensor x = Tensor.of(values, inShape).requiresGrad(true);
                Tensor y = pool(max, x, 3, 2, 1);
                assertEquals(5, unfolds.get(), "one unfold per image: five tiles");
                assertClose("tiled values", y, Tensor.of(direct.forward(), direct.outShape()), 1e-6);
                y.backward(Tensor.of(u, 5, 3, 4, 3));
                assertClose("tiled gradient", x.grad(), Tensor.of(direct.backward(u), inShape), 1e-5);
                Tensor tangent = Autodiff.jvp(t -> pool(max, t, 3, 2, 1), Tensor.of(values, inShape),
                        Tensor.of(v, inShape)).tangent();
                assertClose("tiled jvp", tangent, Tensor.of(direct.apply(v), direct.outShape()), 1e-5);
                System.setProperty(PoolWindow.TILE_PROPERTY, "700");               // two images, then two, then one
                unfolds.set(0);
                assertClose("tiles of two", pool(max, Tensor.of(values, inShape), 3, 2, 1),
                        Tensor.of(direct.forward(), direct.outShape()), 1e-6);
                assertEquals(3, unfolds.get(), "tiles of two images: three unfolds");
                System.setProperty(PoolWindow.TILE_PROPERTY, "4M");
                assertEquals("-D" + PoolWindow.TILE_PROPERTY + "=4M is not a whole number of floats",
                        assertThrows(IllegalArgumentException.class,
                                () -> pool(max, Tensor.of(values, inShape), 3, 2, 1)).getMessage());
            } finally {
                if (previous == null) {
                    System.clearProperty(PoolWindow.TILE_PROPERTY);
                } else {
                    System.setProperty(PoolWindow.TILE_PROPERTY, previous);
                }
                Backends.use(backend());
            }
        }
    }

    @Test
    void aViewPoolsLikeAContiguousCopy() {
        Tensor x = Tensor.randn(37, 2, 3, 5, 6);
        Tensor view = x.transpose();                       // [2, 3, 6, 5], not contiguous
        Tensor copy = Tensor.of(view.toFloatArray(), view.shape());
        for (boolean max : new boolean[] {true, false}) {
            assertArrayEquals(pool(max, copy, 3, 2, 1).toFloatArray(), pool(max, view, 3, 2, 1).toFloatArray());
        }
    }

    @Test
    void badArgumentsAreRefusedWithTheOperationAndTheValues() {
        Tensor image = Tensor.zeros(1, 2, 4, 4);
        assertError("maxPool2d", "[2, 3]", () -> Functional.maxPool2d(Tensor.zeros(2, 3), 2, 2, 0));
        assertError("avgPool2d", "[1, 2, 3, 4, 5]", () -> Functional.avgPool2d(Tensor.zeros(1, 2, 3, 4, 5), 2, 2, 0));
        assertError("maxPool2d", "kernel 0", () -> Functional.maxPool2d(image, 0, 1, 0));
        assertError("avgPool2d", "stride 0", () -> Functional.avgPool2d(image, 2, 0, 0));
        assertError("maxPool2d", "padding -1", () -> Functional.maxPool2d(image, 2, 2, -1));
        assertError("avgPool2d", "at most half the kernel (1)", () -> Functional.avgPool2d(image, 3, 1, 2));
        assertError("maxPool2d", "at most half the kernel (0)", () -> Functional.maxPool2d(image, 1, 1, 1));
        assertError("maxPool2d", "larger than the padded input 4x4",
                () -> Functional.maxPool2d(image, 5, 1, 0));
        assertError("avgPool2d", "larger than the padded input 3x9",
                () -> Functional.avgPool2d(Tensor.zeros(1, 1, 1, 7), 4, 1, 1));
    }

    private static void assertError(String op, String detail, Supplier<Tensor> call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::get);
        assertTrue(e.getMessage().startsWith(op + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(detail), "'" + e.getMessage() + "' names " + detail);
    }

    private static void assertClose(String what, Tensor actual, Tensor expected, double tolerance) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        float[] a = actual.toFloatArray();
        float[] e = expected.toFloatArray();
        for (int i = 0; i < a.length; i++) {
            if (!(Math.abs(a[i] - e[i]) <= tolerance * Math.max(1, Math.abs(e[i])))) {
                throw new AssertionError(what + ": element " + i + " is " + a[i] + ", expected " + e[i]);
            }
        }
    }

    /** A shuffled run of values 0.1 apart around 0: no ties, and no finite-difference step reorders them. */
    private static float[] distinct(Random random, int[] shape) {
        int n = shape[0] * shape[1] * shape[2] * shape[3];
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (i - n / 2) * 0.1f;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            float swap = values[i];
            values[i] = values[j];
            values[j] = swap;
        }
        return values;
    }

    /**
     * A backend that counts the unfolds (im2col calls) and forwards everything else, except
     * the pooling operations: those run their composed defaults on it (the tiled path that
     * backends without pooling kernels inherit), whatever the target overrides.
     */
    private static Backend countingUnfolds(Backend target, AtomicInteger unfolds) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (self, method, arguments) -> {
                    if (method.getDeclaringClass() == PoolingOps.class) {
                        return InvocationHandler.invokeDefault(self, method, arguments);
                    }
                    switch (method.getName()) {
                        case "im2col" -> unfolds.incrementAndGet();
                        case "equals" -> {
                            return self == arguments[0];
                        }
                        case "hashCode" -> {
                            return System.identityHashCode(self);
                        }
                        default -> { }
                    }
                    try {
                        return method.invoke(target, arguments);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /**
     * Pooling written as plain loops in double precision, from the definitions: the reference the
     * engine's tiled im2col version is held to. The windows and, for max, the first maximal
     * element of each are fixed at construction from {@code x}.
     */
    private static final class Direct {
        private final boolean max;
        private final int n;
        private final int c;
        private final int h;
        private final int w;
        private final int kernel;
        private final int stride;
        private final int padding;
        private final int outH;
        private final int outW;
        private final float[] x;
        private final int[] argmax;

        Direct(boolean max, int[] shape, int kernel, int stride, int padding, float[] x) {
            this.max = max;
            this.n = shape[0];
            this.c = shape[1];
            this.h = shape[2];
            this.w = shape[3];
            this.kernel = kernel;
            this.stride = stride;
            this.padding = padding;
            this.outH = (h + 2 * padding - kernel) / stride + 1;
            this.outW = (w + 2 * padding - kernel) / stride + 1;
            this.x = x;
            this.argmax = new int[n * c * outH * outW];
            int o = 0;
            for (int plane = 0; plane < n * c; plane++) {
                for (int oh = 0; oh < outH; oh++) {
                    for (int ow = 0; ow < outW; ow++) {
                        int best = -1;
                        for (int ki = 0; ki < kernel; ki++) {
                            for (int kj = 0; kj < kernel; kj++) {
                                int at = index(plane, oh * stride - padding + ki, ow * stride - padding + kj);
                                if (at >= 0 && (best < 0 || x[at] > x[best])) {
                                    best = at;
                                }
                            }
                        }
                        argmax[o++] = best;
                    }
                }
            }
        }

        int[] outShape() {
            return new int[] {n, c, outH, outW};
        }

        private int index(int plane, int row, int col) {
            return row < 0 || row >= h || col < 0 || col >= w ? -1 : (plane * h + row) * w + col;
        }

        float[] forward() {
            return apply(x);
        }

        /** The pooling's linearisation at x applied to t: the argmax pick (max) or the average (avg). */
        float[] apply(float[] t) {
            float[] out = new float[argmax.length];
            int o = 0;
            for (int plane = 0; plane < n * c; plane++) {
                for (int oh = 0; oh < outH; oh++) {
                    for (int ow = 0; ow < outW; ow++, o++) {
                        if (max) {
                            out[o] = t[argmax[o]];
                            continue;
                        }
                        double sum = 0;
                        for (int ki = 0; ki < kernel; ki++) {
                            for (int kj = 0; kj < kernel; kj++) {
                                int at = index(plane, oh * stride - padding + ki, ow * stride - padding + kj);
                                sum += at < 0 ? 0 : t[at];
                            }
                        }
                        out[o] = (float) (sum / (kernel * kernel));
                    }
                }
            }
            return out;
        }

        /** The transpose of {@link #apply}. */
        float[] backward(float[] u) {
            double[] sums = new double[x.length];
            int o = 0;
            for (int plane = 0; plane < n * c; plane++) {
                for (int oh = 0; oh < outH; oh++) {
                    for (int ow = 0; ow < outW; ow++, o++) {
                        if (max) {
                            sums[argmax[o]] += u[o];
                            continue;
                        }
                        for (int ki = 0; ki < kernel; ki++) {
                            for (int kj = 0; kj < kernel; kj++) {
                                int at = index(plane, oh * stride - padding + ki, ow * stride - padding + kj);
                                if (at >= 0) {
                                    sums[at] += (double) u[o] / (kernel * kernel);
                                }
                            }
                        }
                    }
                }
            }
            float[] out = new float[sums.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) sums[i];
            }
            return out;
        }
    }
}
