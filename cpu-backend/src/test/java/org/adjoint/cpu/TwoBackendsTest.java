package org.adjoint.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Backends;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Losses;
import org.junit.jupiter.api.Test;

/**
 * Backends are instances, not a process-wide singleton: two CPU backends, each with its own
 * buffer pool, train side by side in one JVM, threads switching between them, and a tensor
 * keeps the instance it was made on.
 */
class TwoBackendsTest {

    @Test
    void twoInstancesComputeSideBySideAndKeepTheirTensors() throws InterruptedException {
        CpuBackend first = new CpuBackend();
        CpuBackend second = new CpuBackend();
        assertNotSame(first.pool(), second.pool());
        Backend previous = Backends.current();
        try {
            Linear[] layers = {made(first), made(second)};
            Tensor[] inputs = {input(first), input(second)};
            // The current backend stays the second: every operation runs where its operands live.
            float[][] results = new float[2][];
            Thread[] threads = new Thread[2];
            for (int t = 0; t < 2; t++) {
                int which = t;
                threads[t] = new Thread(() -> results[which] = step(layers[which], inputs[which]));
                threads[t].start();
            }
            for (Thread thread : threads) {
                thread.join();
            }
            assertArrayEquals(results[0], results[1]);
            assertEquals(first.name(), inputs[0].backendName());
            var error = assertThrows(IllegalArgumentException.class, () -> inputs[0].add(inputs[1]));
            assertEquals("add: operands live on different backends (two instances of cpu, each with its own buffers)",
                    error.getMessage());
            assertArrayEquals(inputs[0].mul(2f).toFloatArray(), inputs[0].add(inputs[1].to(first)).toFloatArray());
        } finally {
            Backends.use(previous);
        }
    }

    private static Linear made(Backend backend) {
        Backends.use(backend);
        return new Linear(8, 4, Activation.RELU, 7);
    }

    private static Tensor input(Backend backend) {
        Backends.use(backend);
        return Tensor.rand(3, 16, 8);
    }

    private static float[] step(Linear layer, Tensor x) {
        int[] labels = new int[16];
        for (int r = 0; r < labels.length; r++) {
            labels[r] = r % 4;
        }
        Tensor loss = Losses.crossEntropy(layer.apply(x), labels);
        loss.backward();
        return layer.weight().grad().toFloatArray();
    }
}
