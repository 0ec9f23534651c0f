package org.adjoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.backend.Backends;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Losses;
import org.adjoint.optim.SGD;
import org.junit.jupiter.api.Test;

class BufferPoolTest {

    @Test
    void givesBackZeroedArraysOfTheSameLength() {
        BufferPool pool = new BufferPool(1 << 20);
        float[] a = pool.take(5000);
        a[3] = 7f;
        pool.give(a);
        float[] b = pool.take(5000);
        assertSame(a, b);
        assertEquals(0f, b[3]);
        assertNotSame(b, pool.take(5000));
        float[] small = pool.take(10);
        pool.give(small);
        assertNotSame(small, pool.take(10), "short arrays are left to the garbage collector");
        assertEquals(1, pool.hits());
    }

    @Test
    void anArrayGivenBackTwiceIsRefusedRatherThanHandedToTwoOwners() {
        BufferPool pool = new BufferPool(1 << 20);
        float[] a = pool.take(5000);
        pool.give(a);
        var error = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> pool.give(a));
        assertEquals("cpu buffer pool: an array of 5000 floats was given back twice (a buffer released twice)",
                error.getMessage());
        assertSame(a, pool.take(5000));
        assertNotSame(a, pool.take(5000), "pooled once");
        pool.give(a); // taken again, so it may come back
    }

    @Test
    void aSecondGiveIsFoundAmongManyOfItsLengthAndAnEqualArrayIsNotMistakenForIt() {
        BufferPool pool = new BufferPool(1 << 24);
        float[][] given = new float[40][];
        for (int i = 0; i < given.length; i++) {
            given[i] = new float[5000];
            pool.give(given[i]);
        }
        pool.give(new float[6000]);
        for (int i : new int[] {0, 17, 39}) {
            var error = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> pool.give(given[i]));
            assertTrue(error.getMessage().contains("given back twice"), error.getMessage());
        }
        pool.give(new float[5000]); // equal contents, another array: pooled
        assertEquals(4L * (41 * 5000 + 6000), pool.pooledBytes());
        float[] taken = pool.take(5000);
        pool.give(taken); // out of the pool in between, so it may come back
        assertEquals(4L * (41 * 5000 + 6000), pool.pooledBytes());
    }

    @Test
    void holdsNoMoreThanItsCapacity() {
        BufferPool pool = new BufferPool(4L * 5000);
        pool.give(new float[5000]);
        pool.give(new float[5000]);
        assertEquals(4L * 5000, pool.pooledBytes());
    }

    /** After the first step, a training step's backward buffers come from the pool. */
    @Test
    void aSteadyTrainingStepReusesBackwardBuffers() {
        CpuBackend backend = new CpuBackend();
        Backends.use(backend);
        Linear first = new Linear(64, 128, Activation.RELU, 1);
        Linear second = new Linear(128, 10, Activation.IDENTITY, 2);
        SGD sgd = new SGD(List.of(first.weight(), first.bias(), second.weight(), second.bias()), 0.1f);
        Tensor x = Tensor.randn(3, 64, 64);
        int[] labels = new int[64];
        long missesAfterWarmUp = 0;
        for (int step = 0; step < 5; step++) {
            sgd.zeroGrad();
            Losses.crossEntropy(second.apply(first.apply(x)), labels).backward();
            sgd.step();
            if (step == 1) {
                missesAfterWarmUp = backend.pool().misses();
            }
        }
        long hits = backend.pool().hits();
        long newMisses = backend.pool().misses() - missesAfterWarmUp;
        assertTrue(hits >= 3 * 3, "hits " + hits);
        // Only the forward pass's own results (two activations per step) still need new arrays.
        assertTrue(newMisses <= 3 * 2, "misses after warm-up " + newMisses + ", hits " + hits);
    }
}
