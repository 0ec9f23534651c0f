package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradCheck;
import org.adjoint.backend.Backends;
import org.adjoint.nn.Losses;
import org.adjoint.optim.Adam;
import org.adjoint.optim.AdamW;
import org.adjoint.optim.CosineDecay;
import org.adjoint.optim.LearningRateSchedule;
import org.adjoint.optim.Optimizer;
import org.adjoint.optim.ParameterGroup;
import org.adjoint.optim.SGD;
import org.adjoint.optim.StepDecay;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Optimizers against float64 references computed here, learning-rate schedules at chosen
 * steps, the mean squared error, and the errors for bad hyper-parameters.
 */
public abstract class OptimConformance extends BackendConformance {

    /** Curvature per element of the matrix parameter; the last element has no gradient at all. */
    private static final double[] CURVATURE = {1, 0.5, 2, 0};
    private static final double[] SLOPE = {0.3, -0.2, 0, 0};
    private static final float[] MATRIX_START = {0.5f, -1f, 2f, 0f};
    private static final float SCALAR_START = 1.5f;

    /**
     * Parameters of a small problem: a {@code [2, 2]} matrix {@code w}, a rank-0 {@code s}
     * and a vector that the loss does not use.
     */
    private record Problem(Tensor matrix, Tensor scalar, Tensor unused) {

        Problem() {
            this(Tensor.of(MATRIX_START, 2, 2).requiresGrad(true), Tensor.scalar(SCALAR_START).requiresGrad(true),
                    Tensor.of(new float[] {7, 8, 9}).requiresGrad(true));
        }

        List<Tensor> parameters() {
            return List.of(matrix, scalar, unused);
        }

        /** {@code Σ c·w² + Σ b·w + s⁴/4}: gradients {@code 2c·w + b} and {@code s³}. */
        void backward() {
            Tensor c = Tensor.of(toFloat(CURVATURE), 2, 2);
            Tensor b = Tensor.of(toFloat(SLOPE), 2, 2);
            matrix.mul(matrix).mul(c).sum().add(matrix.mul(b).sum()).add(scalar.pow(4f).mul(0.25f)).backward();
        }
    }

    /** Adam or AdamW in float64, on the problem's values, one parameter vector of five. */
    private static final class AdamReference {
        private final boolean decoupled;
        private final double beta1;
        private final double beta2;
        private final double epsilon;
        private final double weightDecay;
        private final double[] values = new double[5];
        private final double[] m = new double[5];
        private final double[] v = new double[5];
        private int t;

        AdamReference(boolean decoupled, float beta1, float beta2, float epsilon, float weightDecay) {
            this.decoupled = decoupled;
            this.beta1 = beta1;
            this.beta2 = beta2;
            this.epsilon = epsilon;
            this.weightDecay = weightDecay;
            for (int i = 0; i < 4; i++) {
                values[i] = MATRIX_START[i];
            }
            values[4] = SCALAR_START;
        }

        void step(double learningRate) {
            t++;
            for (int i = 0; i < 5; i++) {
                double p = values[i];
                double g = i < 4 ? 2 * CURVATURE[i] * p + SLOPE[i] : p * p * p;
                if (decoupled) {
                    p -= learningRate * weightDecay * p;
                } else {
                    g += weightDecay * p;
                }
                m[i] = beta1 * m[i] + (1 - beta1) * g;
                v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                double mHat = m[i] / (1 - Math.pow(beta1, t));
                double vHat = v[i] / (1 - Math.pow(beta2, t));
                values[i] = p - learningRate * mHat / (Math.sqrt(vHat) + epsilon);
            }
        }

        float[] matrix() {
            return toFloat(java.util.Arrays.copyOf(values, 4));
        }

        float scalar() {
            return (float) values[4];
        }
    }

    private static float[] toFloat(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }

    /** Runs three steps at the given rates and compares every parameter after each. */
    private static void assertMatchesReference(boolean decoupled, float beta1, float beta2, float epsilon,
                                               float weightDecay, float... rates) {
        Problem problem = new Problem();
        Optimizer optimizer = decoupled
                ? new AdamW(problem.parameters(), rates[0], beta1, beta2, epsilon, weightDecay)
                : new Adam(problem.parameters(), rates[0], beta1, beta2, epsilon, weightDecay);
        AdamReference reference = new AdamReference(decoupled, beta1, beta2, epsilon, weightDecay);
        for (float rate : rates) {
            assertSame(optimizer, optimizer.learningRate(rate));
            optimizer.zeroGrad();
            problem.backward();
            optimizer.step();
            reference.step(rate);
            assertClose(problem.matrix(), shape(2, 2), 1e-5, reference.matrix());
            assertClose(problem.scalar(), shape(), 1e-5, reference.scalar());
            assertTensor(problem.unused(), shape(3), 7, 8, 9);
        }
    }

    @Test
    void adamMatchesAFloat64ReferenceOverThreeSteps() {
        assertMatchesReference(false, 0.9f, 0.999f, 1e-8f, 0f, 0.1f, 0.1f, 0.1f);
    }

    @Test
    void adamWithL2WeightDecayMatchesItsReference() {
        assertMatchesReference(false, 0.9f, 0.999f, 1e-8f, 0.1f, 0.1f, 0.1f, 0.1f);
    }

    @Test
    void adamWMatchesItsReference() {
        assertMatchesReference(true, 0.9f, 0.999f, 1e-8f, 0.1f, 0.1f, 0.1f, 0.1f);
    }

    @Test
    void adamWithOtherHyperParametersAndAChangingRate() {
        assertMatchesReference(false, 0.8f, 0.99f, 1e-3f, 0.05f, 0.1f, 0.02f, 0.3f);
        assertMatchesReference(true, 0.5f, 0.9f, 0.5f, 0.2f, 0.3f, 0f, 0.1f);
    }

    /** The first step moves every element with a gradient by about the learning rate, whatever its size. */
    @Test
    void adamFirstStepIsTheLearningRateTimesTheGradientsSign() {
        Tensor w = vec(3f, -0.001f, 0f, 1000f).requiresGrad(true);
        Adam adam = new Adam(List.of(w), 0.5f);
        w.mul(vec(1f, -1f, 0f, 2f)).sum().backward();
        adam.step();
        assertClose(w, shape(4), 1e-6, 2.5f, 0.499f, 0f, 999.5f);
    }

    @Test
    void decoupledAndL2WeightDecayDiffer() {
        Problem coupled = new Problem();
        Problem decoupled = new Problem();
        Adam adam = new Adam(coupled.parameters(), 0.1f, 0.9f, 0.999f, 1e-8f, 0.5f);
        AdamW adamW = new AdamW(decoupled.parameters(), 0.1f, 0.9f, 0.999f, 1e-8f, 0.5f);
        coupled.backward();
        decoupled.backward();
        adam.step();
        adamW.step();
        // A first step moves by lr against the sign of the (decayed) gradient. AdamW also shrinks
        // the parameter by 1 − lr·λ; Adam's L2 term only enters through that sign.
        assertEquals(1.5f - 0.1f, coupled.scalar().item(), 1e-6f);
        assertEquals(1.5f * (1 - 0.05f) - 0.1f, decoupled.scalar().item(), 1e-6f);
        assertNotEquals(coupled.scalar().item(), decoupled.scalar().item());
    }

    @Test
    void optimizersExposeTheirDefaults() {
        Tensor w = vec(1f).requiresGrad(true);
        Adam adam = new Adam(List.of(w), 0.01f);
        assertEquals(0.01f, adam.learningRate());
        assertEquals(0.9f, adam.beta1());
        assertEquals(0.999f, adam.beta2());
        assertEquals(1e-8f, adam.epsilon());
        assertEquals(0f, adam.weightDecay());
        AdamW adamW = new AdamW(List.of(w), 0.01f);
        assertEquals(0.01f, adamW.weightDecay());
        assertEquals(1e-8f, adamW.epsilon());
        SGD sgd = new SGD(List.of(w), 0.1f, 0.9f);
        assertEquals(0.9f, sgd.momentum());
        assertEquals(0f, sgd.weightDecay());
        assertEquals(List.of(w), sgd.parameters());
        assertEquals(List.of(w), adamW.parameters());
    }

    @Test
    void sgdWeightDecayAddsTheParameterToTheGradient() {
        Tensor w = vec(1f, 2f).requiresGrad(true);
        SGD sgd = new SGD(List.of(w), 0.5f, 0f, 0.1f);
        w.sum().backward();                       // gradient 1: p ← p − 0.5 (1 + 0.1 p)
        sgd.step();
        assertClose(w, shape(2), 1e-6, 0.45f, 1.4f);
    }

    @Test
    void sgdWeightDecayWithMomentumMatchesAFloat64Reference() {
        float[] start = {1f, -2f, 0.5f};
        double[] x = {1, 2, 3};
        Tensor w = vec(start).requiresGrad(true);
        SGD sgd = new SGD(List.of(w), 0.1f, 0.9f, 0.2f);
        double[] reference = {start[0], start[1], start[2]};
        double[] velocity = new double[3];
        for (int step = 0; step < 3; step++) {
            sgd.zeroGrad();
            w.mul(w).mul(vec(1f, 2f, 3f)).sum().mul(0.5f).backward();   // gradient x·w
            sgd.step();
            for (int i = 0; i < 3; i++) {
                double d = x[i] * reference[i] + 0.2f * reference[i];
                velocity[i] = step == 0 ? d : 0.9f * velocity[i] + d;
                reference[i] -= 0.1f * velocity[i];
            }
            assertClose(w, shape(3), 1e-6, toFloat(reference));
        }
    }

    @Test
    void stepDecayMultipliesAtEachBoundary() {
        StepDecay decay = new StepDecay(0.1f, 30, 0.5f);
        assertEquals(0.1f, decay.rate(0));
        assertEquals(0.1f, decay.rate(29));
        assertEquals(0.05f, decay.rate(30), 1e-9f);
        assertEquals(0.05f, decay.rate(59), 1e-9f);
        assertEquals(0.025f, decay.rate(60), 1e-9f);
        assertEquals(0.1 * Math.pow(0.5, 10), decay.rate(300), 1e-11);
        assertEquals(3f, new StepDecay(3f, 1, 1f).rate(1000));
    }

    @Test
    void cosineDecayEndpointsAndHalfway() {
        CosineDecay cosine = new CosineDecay(1f, 0.1f, 100);
        assertEquals(0, cosine.warmupSteps());
        assertEquals(1f, cosine.rate(0));
        assertEquals(0.55f, cosine.rate(50), 1e-7f);
        assertEquals(0.1 + 0.9 * (1 + Math.cos(Math.PI / 4)) / 2, cosine.rate(25), 1e-7);
        assertEquals(0.1 + 0.9 * (1 + Math.cos(Math.PI * 99 / 100)) / 2, cosine.rate(99), 1e-7);
        assertEquals(0.1f, cosine.rate(100));
        assertEquals(0.1f, cosine.rate(1000));
        for (int step = 1; step <= 100; step++) {
            assertTrue(cosine.rate(step) <= cosine.rate(step - 1), "not decreasing at step " + step);
        }
        assertEquals(0f, new CosineDecay(0.5f, 0f, 1).rate(1));
        assertEquals(0.5f, new CosineDecay(0.5f, 0f, 1).rate(0));
    }

    @Test
    void cosineDecayWithWarmUp() {
        CosineDecay cosine = new CosineDecay(1f, 0.2f, 110, 10);
        assertEquals(0.1f, cosine.rate(0), 1e-7f);
        assertEquals(0.5f, cosine.rate(4), 1e-7f);
        assertEquals(1f, cosine.rate(9));
        assertEquals(1f, cosine.rate(10));
        assertEquals(0.6f, cosine.rate(60), 1e-7f);
        assertEquals(0.2f, cosine.rate(110));
        assertEquals(0.2f, cosine.rate(111));
    }

    @Test
    void aScheduleDrivesAnyOptimizer() {
        Tensor w = vec(0f).requiresGrad(true);
        List<Optimizer> optimizers = List.of(new SGD(List.of(w), 1f), new Adam(List.of(w), 1f),
                new AdamW(List.of(w), 1f));
        LearningRateSchedule decay = new StepDecay(0.4f, 2, 0.5f);
        LearningRateSchedule cosine = new CosineDecay(0.4f, 0f, 10);
        LearningRateSchedule constant = step -> 0.25f;
        for (Optimizer optimizer : optimizers) {
            decay.apply(optimizer, 3);
            assertEquals(0.2f, optimizer.learningRate(), 1e-7f);
            cosine.apply(optimizer, 10);
            assertEquals(0f, optimizer.learningRate());
            constant.apply(optimizer, 0);
            assertEquals(0.25f, optimizer.learningRate());
        }
    }

    @Test
    void sgdStepsAtTheRateTheScheduleSet() {
        Tensor w = vec(0f).requiresGrad(true);
        SGD sgd = new SGD(List.of(w), 1f);
        LearningRateSchedule decay = new StepDecay(1f, 1, 0.5f);
        for (int step = 0; step < 3; step++) {
            decay.apply(sgd, step);
            sgd.zeroGrad();
            w.sum().backward();            // gradient 1: w ← w − 1, − 0.5, − 0.25
            sgd.step();
        }
        assertTensor(w, shape(1), -1.75f);
    }

    @Test
    void adamTrainsATinyRegression() {
        Tensor x = Tensor.randn(11, 64, 3);
        Tensor y = x.matmul(Tensor.of(new float[] {1.5f, -2f, 0.5f}, 3, 1)).add(0.7f);
        Tensor w = Tensor.zeros(3, 1).requiresGrad(true);
        Tensor b = Tensor.zeros(1).requiresGrad(true);
        Adam adam = new Adam(List.of(w, b), 0.1f);
        LearningRateSchedule schedule = new CosineDecay(0.1f, 0.001f, 400, 20);
        Function<Tensor, Tensor> loss = input -> Losses.meanSquaredError(input.matmul(w).add(b), y);
        float first = loss.apply(x).item();
        for (int step = 0; step < 400; step++) {
            schedule.apply(adam, step);
            adam.zeroGrad();
            loss.apply(x).backward();
            adam.step();
        }
        float last = loss.apply(x).item();
        assertTrue(first > 1f && last < 1e-5f, "loss went from " + first + " to " + last);
        assertClose(w, shape(3, 1), 1e-2, 1.5f, -2f, 0.5f);
        assertClose(b, shape(1), 1e-2, 0.7f);
    }

    @Test
    void aGraphRecordedBeforeAStepRefusesToUseTheChangedParameter() {
        List<Function<List<Tensor>, Optimizer>> optimizers = List.of(
                params -> new SGD(params, 0.1f, 0.5f, 0.1f),
                params -> new Adam(params, 0.1f),
                params -> new AdamW(params, 0.1f));
        for (Function<List<Tensor>, Optimizer> create : optimizers) {
            Tensor w = vec(1f, 2f).requiresGrad(true);
            Tensor x = vec(3f, 4f).requiresGrad(true);
            Tensor y = w.mul(x).sum();
            y.backward(Tensor.scalar(1), true);
            Optimizer optimizer = create.apply(List.of(w));
            optimizer.step();
            var error = assertThrows(IllegalStateException.class, y::backward);
            assertTrue(error.getMessage().startsWith("backward: a tensor of shape [2] that 'mul' saved for its "
                    + "gradient was modified in place afterwards"), error.getMessage());
        }
    }

    @Test
    void zeroGradKeepsTheGradientBuffers() {
        Tensor w = vec(1f, 2f).requiresGrad(true);
        Optimizer adamW = new AdamW(List.of(w), 0.1f);
        w.mul(w).sum().backward();
        Tensor grad = w.grad();
        adamW.zeroGrad();
        assertSame(grad, w.grad());
        assertTensor(grad, shape(2), 0, 0);
    }

    /**
     * After the first step, neither {@code step()} nor {@code zeroGrad()} asks the backend for
     * a buffer: counted by a backend that forwards to the one under test. A stateful
     * optimizer's first step does ask (its velocities or moments), which shows the count sees
     * what an update allocates.
     */
    @Test
    void onlyTheFirstStepAllocatesBackendBuffers() {
        record Case(String name, boolean stateful, Function<List<Tensor>, Optimizer> create) {
        }
        List<Case> cases = List.of(
                new Case("SGD", false, params -> new SGD(params, 0.1f)),
                new Case("SGD with weight decay", false, params -> new SGD(params, 0.1f, 0f, 0.01f)),
                new Case("SGD with momentum and weight decay", true, params -> new SGD(params, 0.1f, 0.9f, 0.01f)),
                new Case("Adam with weight decay", true, params -> new Adam(params, 0.1f, 0.9f, 0.999f, 1e-8f, 0.01f)),
                new Case("AdamW", true, params -> new AdamW(params, 0.1f)));
        for (Case c : cases) {
            CountingBackend counting = new CountingBackend(backend());
            Backends.use(counting.backend());
            try {
                Problem problem = new Problem();
                Optimizer optimizer = c.create().apply(problem.parameters());
                List<Long> buffersPerStep = new ArrayList<>();
                for (int step = 0; step < 4; step++) {
                    problem.backward();
                    long before = counting.buffers();
                    optimizer.step();
                    optimizer.zeroGrad();
                    buffersPerStep.add(counting.buffers() - before);
                }
                assertEquals(List.of(0L, 0L, 0L), buffersPerStep.subList(1, 4),
                        c.name() + ": buffers asked of the backend by each step and zeroGrad: " + buffersPerStep);
                if (c.stateful()) {
                    assertTrue(buffersPerStep.get(0) > 0,
                            c.name() + ": buffers asked of the backend by the first step: " + buffersPerStep);
                }
            } finally {
                Backends.use(backend());
            }
        }
    }

    private static void assertRejected(String message, Executable executable) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, executable).getMessage());
    }

    @Test
    void badHyperParametersAreRejected() {
        List<Tensor> w = List.of(vec(1f, 2f).requiresGrad(true));
        assertRejected("Adam: learning rate must be finite and > 0, got 0.0", () -> new Adam(w, 0f));
        assertRejected("AdamW: learning rate must be finite and > 0, got NaN", () -> new AdamW(w, Float.NaN));
        assertRejected("Adam: beta1 must be in [0, 1), got 1.0", () -> new Adam(w, 0.1f, 1f, 0.999f, 1e-8f, 0f));
        assertRejected("AdamW: beta2 must be in [0, 1), got -0.1",
                () -> new AdamW(w, 0.1f, 0.9f, -0.1f, 1e-8f, 0f));
        assertRejected("Adam: epsilon must be finite and > 0, got -1.0E-8",
                () -> new Adam(w, 0.1f, 0.9f, 0.999f, -1e-8f, 0f));
        assertRejected("AdamW: epsilon must be finite and > 0, got 0.0",
                () -> new AdamW(w, 0.1f, 0.9f, 0.999f, 0f, 0f));
        assertRejected("AdamW: weight decay must be finite and >= 0, got -0.01",
                () -> new AdamW(w, 0.1f, 0.9f, 0.999f, 1e-8f, -0.01f));
        assertRejected("SGD: weight decay must be finite and >= 0, got Infinity",
                () -> new SGD(w, 0.1f, 0f, Float.POSITIVE_INFINITY));
        assertRejected("SGD: momentum must be in [0, 1), got 1.0", () -> new SGD(w, 0.1f, 1f, 0f));
        assertRejected("AdamW: the parameter list is empty", () -> new AdamW(List.of(), 0.1f));
        assertRejected("SGD: the parameter list is empty", () -> new SGD(List.of(), 0.1f));
        assertRejected("SGD: learning rate must be finite and > 0, got -0.1", () -> new SGD(w, -0.1f, 0.5f, 0f));
        assertRejected("Adam: learning rate must be finite and >= 0, got -1.0",
                () -> new Adam(w, 0.1f).learningRate(-1f));
        assertRejected("SGD: learning rate must be finite and >= 0, got Infinity",
                () -> new SGD(w, 0.1f).learningRate(Float.POSITIVE_INFINITY));
        Tensor shared = vec(1f, 2f).requiresGrad(true);
        assertRejected("AdamW: parameter 2 of shape [2] is the same tensor as parameter 0 (pass each parameter once)",
                () -> new AdamW(List.of(shared, vec(3f).requiresGrad(true), shared), 0.1f));
        Tensor notLeaf = vec(1f, 2f).requiresGrad(true).mul(2f);
        assertRejected("Adam: parameter 0 of shape [2] must be a leaf that requires a gradient",
                () -> new Adam(List.of(notLeaf), 0.1f));
        assertRejected("AdamW: parameter 0 of shape [1] must be a leaf that requires a gradient",
                () -> new AdamW(List.of(vec(1f)), 0.1f));
    }

    @Test
    void badSchedulesAreRejected() {
        assertRejected("StepDecay: base rate must be finite and > 0, got 0.0", () -> new StepDecay(0f, 10, 0.5f));
        assertRejected("StepDecay: period must be >= 1, got 0", () -> new StepDecay(0.1f, 0, 0.5f));
        assertRejected("StepDecay: gamma must be finite and > 0, got 0.0", () -> new StepDecay(0.1f, 10, 0f));
        assertRejected("StepDecay: step must be >= 0, got -1", () -> new StepDecay(0.1f, 10, 0.5f).rate(-1));
        assertRejected("CosineDecay: base rate must be finite and > 0, got -1.0", () -> new CosineDecay(-1f, 0f, 10));
        assertRejected("CosineDecay: minimum rate must be in [0, 0.1], got 0.2", () -> new CosineDecay(0.1f, 0.2f, 10));
        assertRejected("CosineDecay: total steps must be >= 1, got 0", () -> new CosineDecay(0.1f, 0f, 0));
        assertRejected("CosineDecay: warm-up steps must be in [0, 10), got 10",
                () -> new CosineDecay(0.1f, 0f, 10, 10));
        assertRejected("CosineDecay: step must be >= 0, got -3", () -> new CosineDecay(0.1f, 0f, 10).rate(-3));
    }

    @Test
    void meanSquaredErrorValueAndGradients() {
        Tensor prediction = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).requiresGrad(true);
        Tensor target = Tensor.of(new float[] {0, 2, 5, 4}, 2, 2).requiresGrad(true);
        Tensor loss = Losses.meanSquaredError(prediction, target);
        assertTensor(loss, shape(), 1.25f);                     // (1 + 0 + 4 + 0) / 4
        loss.backward();
        assertClose(prediction.grad(), shape(2, 2), 0, 0.5f, 0f, -1f, 0f);  // 2 (p − t) / 4
        assertClose(target.grad(), shape(2, 2), 0, -0.5f, 0f, 1f, 0f);
        List<Tensor> inputs = List.of(Tensor.randn(5, 3, 4), Tensor.randn(6, 3, 4));
        GradCheck.finiteDifferences(in -> Losses.meanSquaredError(in.get(0), in.get(1)), inputs).assertPassed();
        assertTensor(Losses.meanSquaredError(Tensor.scalar(3f), Tensor.scalar(1f)), shape(), 4f);
    }

    @Test
    void meanSquaredErrorRefusesToBroadcast() {
        assertRejected("meanSquaredError: prediction [3] and target [1] must have the same shape (no broadcasting)",
                () -> Losses.meanSquaredError(Tensor.zeros(3), Tensor.zeros(1)));
        assertRejected("meanSquaredError: prediction [4, 1] and target [4] must have the same shape (no broadcasting)",
                () -> Losses.meanSquaredError(Tensor.zeros(4, 1), Tensor.zeros(4)));
    }

    @Test
    void adamWGroupsDecayEachGroupByItsOwnCoefficient() {
        // Each group must move exactly as a plain AdamW with its coefficient moves it.
        Tensor matrix = Tensor.of(new float[] {0.5f, -1f, 2f, 0.25f}, 2, 2).requiresGrad(true);
        Tensor bias = vec(1f, -2f).requiresGrad(true);
        Tensor matrixAlone = Tensor.of(new float[] {0.5f, -1f, 2f, 0.25f}, 2, 2).requiresGrad(true);
        Tensor biasAlone = vec(1f, -2f).requiresGrad(true);
        List<ParameterGroup> groups = ParameterGroup.byRank(List.of(bias, matrix), 0.5f);
        assertEquals(List.of(matrix), groups.get(0).parameters());
        assertEquals(List.of(bias), groups.get(1).parameters());
        AdamW grouped = AdamW.grouped(groups, 0.1f, 0.9f, 0.99f, 1e-8f);
        AdamW decayed = new AdamW(List.of(matrixAlone), 0.1f, 0.9f, 0.99f, 1e-8f, 0.5f);
        AdamW plain = new AdamW(List.of(biasAlone), 0.1f, 0.9f, 0.99f, 1e-8f, 0f);
        assertEquals(List.of(matrix, bias), grouped.parameters());
        assertEquals(0.5f, grouped.weightDecay());
        assertEquals(0.5f, grouped.weightDecay(matrix));
        assertEquals(0f, grouped.weightDecay(bias));
        for (int step = 0; step < 3; step++) {
            for (Tensor[] pair : new Tensor[][] {{matrix, bias}, {matrixAlone, biasAlone}}) {
                pair[0].zeroGrad();
                pair[1].zeroGrad();
                pair[0].mul(pair[0]).sum().add(pair[1].mul(3f).sum()).backward();
            }
            grouped.step();
            decayed.step();
            plain.step();
        }
        assertArrayEquals(matrixAlone.toFloatArray(), matrix.toFloatArray());
        assertArrayEquals(biasAlone.toFloatArray(), bias.toFloatArray());
        // The bias is not decayed: after three steps of a constant gradient 3, Adam moves it by 3·lr.
        assertEquals(1f - 0.3f, bias.toFloatArray()[0], 1e-5f);
        assertRejected("AdamW: weight decay of group 1 must be finite and >= 0, got -1.0",
                () -> AdamW.grouped(List.of(new ParameterGroup(List.of(matrixAlone), 0.1f),
                        new ParameterGroup(List.of(biasAlone), -1f)), 0.1f));
        assertRejected("AdamW: the tensor [3] is not one of its parameters",
                () -> grouped.weightDecay(vec(1f, 2f, 3f)));
    }
}
