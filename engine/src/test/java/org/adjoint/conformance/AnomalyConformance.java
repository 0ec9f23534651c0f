package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.adjoint.Tensor;
import org.adjoint.autodiff.Anomaly;
import org.adjoint.autodiff.AnomalyException;
import org.adjoint.autodiff.Autodiff;
import org.adjoint.autodiff.CustomFunction;
import org.adjoint.checkpoint.CheckpointPolicy;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Layer;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Losses;
import org.adjoint.nn.Sequential;
import org.adjoint.optim.Adam;
import org.adjoint.optim.SGD;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Anomaly detection: NaN and infinities in forward values and in gradients are reported with
 * the operation, the shapes, the first bad element and the line of user code that created
 * the operation; off by default, confined to a thread, and without effect on results.
 */
public abstract class AnomalyConformance extends BackendConformance {

    private static final String SOURCE = "AnomalyConformance.java";

    /** A user model, so that the creation site is a method of user code. */
    private static final class LogModel implements Layer {
        private final Tensor weight = Tensor.of(new float[] {1, 0, 2, 1, 1, -3}, 2, 3).requiresGrad(true);
        private int line;

        @Override
        public Tensor apply(Tensor x) {
            Tensor scores = x.matmul(weight);
            line = new Throwable().getStackTrace()[0].getLineNumber() + 1;
            return scores.log();
        }

        @Override
        public List<Tensor> parameters() {
            return List.of(weight);
        }
    }

    /** The identity forward, with a rule that returns the cotangent divided by zero. */
    private static final class BadRule extends CustomFunction {
        @Override
        protected Tensor forward(Context ctx, List<Tensor> inputs) {
            return inputs.get(0).mul(1f);
        }

        @Override
        protected Tensor vjp(Context ctx, int input, Tensor cotangent) {
            return cotangent.div(0f);
        }
    }

    private static AnomalyException anomaly(Executable executable) {
        return assertThrows(AnomalyException.class, executable);
    }

    private static String at(StackTraceElement frame) {
        return SOURCE + ":" + frame.getLineNumber() + " (" + frame.getClassName() + "." + frame.getMethodName() + ")";
    }

    private static Tensor halfNegative() {
        return Tensor.of(new float[] {1, 2, 3, 4, -5, 6}, 2, 3).requiresGrad(true);
    }

    @Test
    void offByDefault() {
        assertFalse(Anomaly.isEnabled());
        Tensor y = halfNegative().log();
        assertTrue(Float.isNaN(y.toFloatArray()[4]));
        y.sum().backward();
    }

    @Test
    void aNanOutputNamesTheOperationTheElementAndTheUserLine() {
        Tensor x = halfNegative();
        AnomalyException error;
        try (var _ = Anomaly.detect()) {
            int line = new Throwable().getStackTrace()[0].getLineNumber() + 1;
            error = anomaly(() -> x.log());
            assertEquals(line, error.createdAt().getLineNumber());
        }
        StackTraceElement frame = error.createdAt();
        assertEquals(AnomalyConformance.class.getName(), frame.getClassName());
        assertEquals("log: output [2, 3] has NaN at index 4 [1, 1] (input [2, 3]); the operation was created at "
                + at(frame), error.getMessage());
        assertEquals("log", error.operation());
        assertEquals(AnomalyException.Stage.FORWARD, error.stage());
        assertEquals(4, error.index());
        assertTrue(Float.isNaN(error.value()));
        assertTrue(error instanceof ArithmeticException);
    }

    @Test
    void theCreatorIsTheFirstFrameOutsideTheEngine() {
        LogModel model = new LogModel();
        Tensor x = Tensor.of(new float[] {1, 1}, 1, 2);
        AnomalyException error;
        try (var _ = Anomaly.detect()) {
            error = anomaly(() -> model.apply(x));
        }
        StackTraceElement frame = error.createdAt();
        assertEquals(LogModel.class.getName(), frame.getClassName());
        assertEquals("apply", frame.getMethodName());
        assertEquals(model.line, frame.getLineNumber());
        assertEquals("log: output [1, 3] has NaN at index 2 [0, 2] (input [1, 3]); the operation was created at "
                + at(frame), error.getMessage());
    }

    @Test
    void infinitiesAreAnomaliesToo() {
        Tensor x = Tensor.of(new float[] {2, 0, 1}).requiresGrad(true);
        try (var _ = Anomaly.detect()) {
            AnomalyException error = anomaly(() -> x.pow(-1f));
            assertEquals(Float.POSITIVE_INFINITY, error.value());
            assertTrue(error.getMessage().startsWith("pow: output [3] has Infinity at index 1 (input [3]); "),
                    error.getMessage());
            AnomalyException negative = anomaly(() -> x.log());
            assertEquals(Float.NEGATIVE_INFINITY, negative.value());
            assertTrue(negative.getMessage().startsWith("log: output [3] has -Infinity at index 1 (input [3]); "),
                    negative.getMessage());
        }
    }

    @Test
    void aBadValueFromOutsideTheTapeIsReportedWhereItEntersIt() {
        Tensor w = Tensor.of(new float[] {1, Float.NaN, 3}).requiresGrad(true);
        Tensor data = Tensor.of(new float[] {1, 2, Float.NEGATIVE_INFINITY});
        try (var _ = Anomaly.detect()) {
            AnomalyException parameter = anomaly(() -> w.mul(2f));
            assertTrue(parameter.getMessage().startsWith("mul: input 0 [3] has NaN at index 1, and no recorded "
                    + "operation computed it (a parameter, a constant, or a value computed with recording off) "
                    + "(inputs [3], []); the operation was created at " + SOURCE + ":"), parameter.getMessage());
            Tensor ok = Tensor.of(new float[] {1, 2, 3}).requiresGrad(true);
            AnomalyException input = anomaly(() -> ok.add(data));
            assertTrue(input.getMessage().startsWith("add: input 1 [3] has -Infinity at index 2, and no recorded"),
                    input.getMessage());
        }
    }

    @Test
    void aBadGradientNamesTheRuleThatProducedIt() {
        Tensor x = Tensor.of(new float[] {4, 1, 9, 0, 16, 25}, 2, 3).requiresGrad(true);
        AnomalyException error;
        int line;
        try (var _ = Anomaly.detect()) {
            line = new Throwable().getStackTrace()[0].getLineNumber() + 1;
            Tensor loss = x.sqrt().sum();
            assertEquals(15f, loss.item());
            error = anomaly(loss::backward);
        }
        StackTraceElement frame = error.createdAt();
        assertEquals(line, frame.getLineNumber());
        assertEquals("sqrt: gradient for input 0 [2, 3] has Infinity at index 3 [1, 0] (input [2, 3]); the operation "
                + "was created at " + at(frame), error.getMessage());
        assertEquals(AnomalyException.Stage.BACKWARD, error.stage());
        assertNull(x.grad(), "nothing reached the leaf");
    }

    @Test
    void aCustomRuleIsNamedByItsFunction() {
        Tensor x = vec(1, 2).requiresGrad(true);
        try (var _ = Anomaly.detect()) {
            Tensor y = new BadRule().apply(x).sum();
            AnomalyException error = anomaly(y::backward);
            assertTrue(error.getMessage().startsWith("BadRule: gradient for input 0 [2] has Infinity at index 0 "
                    + "(input [2]); the operation was created at " + SOURCE + ":"), error.getMessage());
        }
    }

    @Test
    void theFunctionalTransformsAreCheckedToo() {
        try (var _ = Anomaly.detect()) {
            AnomalyException error = anomaly(() -> Autodiff.grad(x -> x.sqrt().sum(), vec(1, 0)));
            assertEquals("sqrt", error.operation());
            assertEquals(AnomalyException.Stage.BACKWARD, error.stage());
            assertEquals(1, error.index());
        }
    }

    @Test
    void aRecordedBackwardPassNamesTheRuleNotTheOperationsInsideIt() {
        try (var _ = Anomaly.detect()) {
            // The inner grad records its backward pass (its input requires a gradient); the
            // rule of sqrt divides by zero there, and that rule is what the error names.
            AnomalyException error = anomaly(() -> Autodiff.grad(x -> Autodiff.grad(y -> y.sqrt().sum(), x).sum(),
                    vec(4, 0)));
            assertEquals("sqrt", error.operation());
            assertEquals(AnomalyException.Stage.BACKWARD, error.stage());
            assertTrue(error.getMessage().startsWith("sqrt: gradient for input 0 [2] has Infinity at index 1 "
                    + "(input [2]); the operation was created at " + SOURCE + ":"), error.getMessage());
        }
    }

    @Test
    void aGraphRecordedWithTheModeOffHasNoCreationSite() {
        Tensor x = vec(1, 0).requiresGrad(true);
        Tensor loss = x.sqrt().sum();
        try (var _ = Anomaly.detect()) {
            AnomalyException error = anomaly(loss::backward);
            assertNull(error.createdAt());
            assertEquals("sqrt: gradient for input 0 [2] has Infinity at index 1; the operation was created at an "
                    + "unknown place (it was recorded with anomaly mode off)", error.getMessage());
        }
    }

    @Test
    void anErrorInARuleGetsTheCreationSiteAsANote() {
        Tensor w = vec(1, 2).requiresGrad(true);
        Tensor loss;
        int line;
        try (var _ = Anomaly.detect()) {
            line = new Throwable().getStackTrace()[0].getLineNumber() + 1;
            loss = w.mul(w.detach()).sum();
            w.sum().backward();
            new SGD(List.of(w), 0.1f).step();
            var error = assertThrows(IllegalStateException.class, loss::backward);
            assertTrue(error.getMessage().startsWith("backward: a tensor of shape [2] that 'mul' saved"),
                    error.getMessage());
            assertEquals(1, error.getSuppressed().length);
            assertTrue(error.getSuppressed()[0].getMessage().startsWith("anomaly mode: the failing 'mul' was created at "
                    + SOURCE + ":" + line + " ("), error.getSuppressed()[0].getMessage());
        }
    }

    @Test
    void scopesNestAndRestore() {
        try (var _ = Anomaly.detect()) {
            assertTrue(Anomaly.isEnabled());
            try (var _ = Anomaly.ignore()) {
                assertFalse(Anomaly.isEnabled());
                assertTrue(Float.isNaN(halfNegative().log().toFloatArray()[4]));
            }
            assertTrue(Anomaly.isEnabled());
        }
        assertFalse(Anomaly.isEnabled());
    }

    @Test
    void theModeIsConfinedToItsThread() throws InterruptedException {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicReference<Boolean> seen = new AtomicReference<>();
        try (var _ = Anomaly.detect()) {
            Thread other = Thread.ofPlatform().start(() -> {
                try {
                    seen.set(Anomaly.isEnabled());
                    halfNegative().log().sum().backward();
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            other.join();
            anomaly(() -> halfNegative().log());
        }
        assertNull(failure.get());
        assertFalse(seen.get());
    }

    @Test
    void trainingResultsAreTheSameWithTheModeOn() {
        float[][] off = train(false);
        float[][] on = train(true);
        for (int i = 0; i < off.length; i++) {
            assertArrayEquals(off[i], on[i], "parameter " + i);
        }
    }

    /** Five Adam steps of a small MLP, half of it checkpointed; the parameters afterwards. */
    private static float[][] train(boolean anomaly) {
        Sequential model = new Sequential(new Linear(6, 16, Activation.TANH, 11), new Linear(16, 16, Activation.RELU, 12),
                new Linear(16, 4, Activation.IDENTITY, 13));
        Adam adam = new Adam(model.parameters(), 0.01f);
        Tensor x = Tensor.randn(5, 8, 6);
        int[] labels = {0, 1, 2, 3, 3, 2, 1, 0};
        try (var _ = anomaly ? Anomaly.detect() : Anomaly.ignore()) {
            for (int step = 0; step < 5; step++) {
                adam.zeroGrad();
                Tensor logits = step % 2 == 0 ? model.apply(x) : model.apply(x, CheckpointPolicy.sqrt());
                Losses.crossEntropy(logits, labels).backward();
                adam.step();
            }
        }
        List<float[]> values = new ArrayList<>();
        for (Tensor p : model.parameters()) {
            values.add(p.toFloatArray());
        }
        return values.toArray(float[][]::new);
    }

    /** Run in a JVM of its own by {@link #theSystemPropertyTurnsItOnForEveryThread()}. */
    public static final class PropertyMain {
        private PropertyMain() {
        }

        /**
         * Prints whether the mode is on in this thread and a new one, then the anomaly of a log.
         *
         * @param args unused
         * @throws InterruptedException when interrupted
         */
        public static void main(String[] args) throws InterruptedException {
            AtomicReference<Boolean> other = new AtomicReference<>();
            Thread thread = Thread.ofPlatform().start(() -> other.set(Anomaly.isEnabled()));
            thread.join();
            System.out.println(Anomaly.isEnabled() + " " + other.get());
            try {
                Tensor.of(new float[] {-1}).requiresGrad(true).log();
            } catch (AnomalyException e) {
                System.out.println(e.getMessage());
            }
        }
    }

    @Test
    void theSystemPropertyTurnsItOnForEveryThread() throws Exception {
        String output = childOutput("true");
        assertTrue(output.contains("true true\n"), output);
        assertTrue(output.contains("log: output [1] has NaN at index 0 (input [1]); the operation was created at "
                + SOURCE + ":"), output);
        assertTrue(output.contains("(" + PropertyMain.class.getName() + ".main)"), output);
        // Any case is read as meant; another word is said at WARNING and leaves it off.
        assertTrue(childOutput("TRUE").contains("true true\n"));
        String yes = childOutput("yes");
        assertTrue(yes.contains("false false\n") && yes.contains("WARNING: -D" + Anomaly.PROPERTY + "=yes is neither true "
                + "nor false; anomaly detection stays off"), yes);
    }

    private String childOutput(String value) throws Exception {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        Process process = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-D" + Anomaly.PROPERTY + "=" + value, "-Dadjoint.backend=" + backend().name(),
                PropertyMain.class.getName()).redirectErrorStream(true).start();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the child JVM finished");
        return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
}
