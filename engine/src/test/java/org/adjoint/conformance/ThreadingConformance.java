package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.adjoint.Tensor;
import org.adjoint.autodiff.Autodiff;
import org.adjoint.autodiff.CustomFunction;
import org.adjoint.autodiff.GradMode;
import org.adjoint.checkpoint.CheckpointPolicy;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Dropout;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Losses;
import org.adjoint.nn.RandomState;
import org.adjoint.nn.Sequential;
import org.adjoint.optim.Adam;
import org.adjoint.optim.Optimizer;
import org.adjoint.optim.SGD;
import org.junit.jupiter.api.Test;

/**
 * Threads: grad mode and the tape belong to one thread; two models trained on two threads at
 * once end bitwise where they end trained one after the other; and a graph that one thread is
 * reversing fails clearly, naming both threads, when another thread reaches it.
 */
public abstract class ThreadingConformance extends BackendConformance {

    private static final int STEPS = 12;
    private static final long TIMEOUT_SECONDS = 30;

    /** One training run: its own model, optimizer, data and random stream. */
    private record Run(Sequential model, Optimizer optimizer, Tensor x, int[] labels, CheckpointPolicy policy) {

        static Run adamWithCheckpoints() {
            Sequential model = new Sequential(new Linear(12, 24, Activation.TANH, 1), new Dropout(0.25f),
                    new Linear(24, 24, Activation.RELU, 2), new Linear(24, 24, Activation.TANH, 3),
                    new Linear(24, 5, Activation.IDENTITY, 4));
            return new Run(model, new Adam(model.parameters(), 0.01f), Tensor.randn(10, 16, 12),
                    labels(16, 5), CheckpointPolicy.sqrt());
        }

        static Run sgdPlain() {
            Sequential model = new Sequential(new Linear(9, 32, Activation.SIGMOID, 5),
                    new Linear(32, 3, Activation.IDENTITY, 6));
            return new Run(model, new SGD(model.parameters(), 0.1f, 0.9f), Tensor.randn(11, 20, 9),
                    labels(20, 3), null);
        }

        private static int[] labels(int rows, int classes) {
            int[] labels = new int[rows];
            for (int i = 0; i < rows; i++) {
                labels[i] = (i * 7) % classes;
            }
            return labels;
        }

        /** One step; {@code meet} lines the two threads up so that their steps overlap. */
        void step(CyclicBarrier meet) throws Exception {
            if (meet != null) {
                meet.await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
            optimizer.zeroGrad();
            Tensor logits = policy == null ? model.apply(x) : model.apply(x, policy);
            Tensor loss = Losses.crossEntropy(logits, labels);
            if (meet != null) {
                meet.await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
            loss.backward();
            optimizer.step();
        }

        void train(CyclicBarrier meet) throws Exception {
            RandomState.set(42);
            for (int step = 0; step < STEPS; step++) {
                step(meet);
            }
        }

        List<float[]> parameters() {
            List<float[]> values = new ArrayList<>();
            for (Tensor p : model.parameters()) {
                values.add(p.toFloatArray());
            }
            return values;
        }
    }

    private static void assertSameBits(List<float[]> expected, List<float[]> actual, String model) {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), model + " parameter " + i);
        }
    }

    /** Runs {@code body} on a new platform thread with this name; its failure is returned. */
    private static Thread start(String name, AtomicReference<Throwable> failure, ThrowingRunnable body) {
        return Thread.ofPlatform().name(name).start(() -> {
            try {
                body.run();
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        });
    }

    /** A body that may throw anything. */
    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    private static void join(Thread thread) throws InterruptedException {
        assertTrue(thread.join(java.time.Duration.ofSeconds(TIMEOUT_SECONDS)), thread.getName() + " finished");
    }

    @Test
    void twoModelsTrainedConcurrentlyEndBitwiseWhereTheyEndTrainedInTurn() throws Exception {
        Run first = Run.adamWithCheckpoints();
        Run second = Run.sgdPlain();
        first.train(null);
        second.train(null);

        Run firstAgain = Run.adamWithCheckpoints();
        Run secondAgain = Run.sgdPlain();
        CyclicBarrier meet = new CyclicBarrier(2);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread a = start("trainer-adam", failure, () -> firstAgain.train(meet));
        Thread b = start("trainer-sgd", failure, () -> secondAgain.train(meet));
        join(a);
        join(b);
        assertNull(failure.get(), () -> "a trainer failed: " + failure.get());
        assertSameBits(first.parameters(), firstAgain.parameters(), "adam");
        assertSameBits(second.parameters(), secondAgain.parameters(), "sgd");
    }

    @Test
    void gradModeIsConfinedToItsThread() throws Exception {
        CountDownLatch off = new CountDownLatch(1);
        CountDownLatch checked = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicReference<Boolean> recordedElsewhere = new AtomicReference<>();
        Thread other = start("no-grad", failure, () -> {
            try (var _ = GradMode.noGrad()) {
                off.countDown();
                assertTrue(checked.await(TIMEOUT_SECONDS, TimeUnit.SECONDS));
                assertFalse(vec(1, 2).requiresGrad(true).mul(2f).requiresGrad());
            }
        });
        assertTrue(off.await(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        recordedElsewhere.set(GradMode.isEnabled() && vec(1, 2).requiresGrad(true).mul(2f).requiresGrad());
        checked.countDown();
        join(other);
        assertNull(failure.get());
        assertTrue(recordedElsewhere.get());
    }

    /**
     * The identity, whose rule stops on latches: it announces that the backward pass reached it,
     * then waits for the test's go-ahead.
     */
    private static final class Hold extends CustomFunction {
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch proceed = new CountDownLatch(1);

        @Override
        protected Tensor forward(Context ctx, List<Tensor> inputs) {
            return inputs.get(0).mul(1f);
        }

        @Override
        protected Tensor vjp(Context ctx, int input, Tensor cotangent) {
            reached.countDown();
            try {
                if (!proceed.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the test never let the backward pass go on");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            return cotangent;
        }
    }

    @Test
    void aGraphBeingReversedFailsClearlyOnAnotherThread() throws Exception {
        Tensor x = vec(1, 2, 3).requiresGrad(true);
        Hold hold = new Hold();
        Tensor hidden = x.mul(x);                        // consumed by the held rule
        Tensor held = hold.apply(hidden);
        Tensor loss = held.mul(2f).sum();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread reverser = start("reverser", failure, () -> loss.backward(Tensor.scalar(1), true));
        assertTrue(hold.reached.await(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        String self = Thread.currentThread().getName();
        try {
            var again = assertThrows(IllegalStateException.class, loss::backward);
            assertEquals("backward: the graph through 'sum' is being reversed by thread 'reverser' right now; thread '"
                    + self + "' cannot run another backward pass through it until that one returns (a graph "
                    + "belongs to one thread at a time)", again.getMessage());
            // A new graph from the same leaf is this thread's own.
            assertTensor(Autodiff.grad(h -> h.mul(h).sum(), x), shape(3), 2, 4, 6);
            var use = assertThrows(IllegalStateException.class, () -> hidden.add(1f));
            assertEquals("add: input 0 [3] was computed by 'mul', whose graph thread 'reverser' is reversing right "
                    + "now; thread '" + self + "' cannot record an operation on it until that backward pass returns "
                    + "(a graph belongs to one thread at a time)", use.getMessage());
            var rule = assertThrows(IllegalStateException.class, () -> held.mul(held));
            assertTrue(rule.getMessage().startsWith("mul: input 0 [3] was computed by 'Hold', whose graph thread "
                    + "'reverser' is reversing right now"), rule.getMessage());
            try (var _ = GradMode.noGrad()) {
                assertTensor(hidden.add(1f), shape(3), 2, 5, 10); // reading values records nothing
            }
            assertTensor(x.mul(3f), shape(3), 3, 6, 9);          // the leaf has no graph to race on
        } finally {
            hold.proceed.countDown();
            join(reverser);
        }
        assertNull(failure.get(), () -> "the first backward pass failed: " + failure.get());
        assertTensor(x.grad(), shape(3), 4, 8, 12);
        // Once the pass has returned, the graph (kept with retainGraph) is free for this thread.
        loss.backward();
        assertTensor(x.grad(), shape(3), 8, 16, 24);
        assertTensor(hidden.add(1f), shape(3), 2, 5, 10);
    }
}
