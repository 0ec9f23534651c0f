package org.adjoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import org.adjoint.Tensor;
import org.adjoint.checkpoint.CheckpointMeter;
import org.adjoint.checkpoint.CheckpointPolicy;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Layer;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Losses;
import org.adjoint.nn.Sequential;
import org.adjoint.optim.Adam;
import org.adjoint.optim.Optimizer;
import org.adjoint.optim.SGD;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A few hundred training steps of a small MLP keep memory flat once warmed up: the heap in use
 * after a full collection, the direct (native) buffers, and the CPU backend's
 * {@link BufferPool}, which after warm-up reuses and makes the same number of arrays in every
 * step and holds the same bytes at the end of each. A checkpointed run frees every checkpoint it took: after
 * each step its {@link CheckpointMeter} holds no saved bytes. The full-size run (10,000 steps
 * of the benchmark MLP) is {@code org.adjoint.bench.jmh.LongRunBench}.
 */
class LongRunTest {

    private static final int STEPS = 300;
    private static final int WARM_UP = 100;
    private static final int INTERVAL = 50;
    private static final int BATCH = 64;
    /**
     * Growth of the collected heap still taken as flat. One step's graph kept by mistake holds
     * its activations, 64 × 256 floats per layer, so a leak of one per step adds about 60 MB
     * over the measured steps; what a full collection leaves varies by well under 1 MB.
     */
    private static final long HEAP_TOLERANCE = 4L << 20;

    private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();

    @RegisterExtension
    final OwnCpuBackend own = new OwnCpuBackend();

    @Test
    void trainingKeepsHeapDirectMemoryAndPoolFlat() {
        Sequential model = mlp(3);
        run("plain, Adam", model, new Adam(model.parameters(), 1e-3f), null);
    }

    @Test
    void checkpointedTrainingFreesEveryCheckpointItTook() {
        Sequential model = mlp(6);
        CheckpointMeter meter = new CheckpointMeter();
        run("checkpointed sqrt, SGD", model, new SGD(model.parameters(), 0.01f, 0.9f), meter);
        assertTrue(meter.peakSavedBytes() > 0, "the run saved activations");
    }

    /** {@code layers} linear layers, 256 wide with ReLU, from a 128-wide input to 10 classes. */
    private static Sequential mlp(int layers) {
        List<Layer> chain = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            int in = i == 0 ? 128 : 256;
            int out = i + 1 == layers ? 10 : 256;
            chain.add(new Linear(in, out, i + 1 == layers ? Activation.IDENTITY : Activation.RELU, 100 + i));
        }
        return new Sequential(chain);
    }

    private void run(String name, Sequential model, Optimizer optimizer, CheckpointMeter meter) {
        SplittableRandom random = new SplittableRandom(9);
        Tensor inputs = Tensor.randn(random.nextLong(), BATCH, 128);
        int[] labels = random.ints(BATCH, 0, 10).toArray();
        BufferPool pool = own.backend().pool();

        long heapAfterWarmUp = 0;
        long directAfterWarmUp = 0;
        long pooledAfterWarmUp = 0;
        long hitsPerStep = -1;
        long missesPerStep = -1;
        long maxHeap = 0;
        List<String> samples = new ArrayList<>();
        for (int step = 1; step <= STEPS; step++) {
            long hits = pool.hits();
            long misses = pool.misses();
            optimizer.zeroGrad();
            Tensor logits = meter == null ? model.apply(inputs) : model.apply(inputs, CheckpointPolicy.sqrt(), meter);
            Losses.crossEntropy(logits, labels).backward();
            optimizer.step();
            if (meter != null) {
                assertEquals(0, meter.savedBytes(), name + ": bytes still saved after step " + step);
            }
            if (step == WARM_UP) {
                heapAfterWarmUp = collectedHeap();
                directAfterWarmUp = directBytes();
                pooledAfterWarmUp = pool.pooledBytes();
                hitsPerStep = pool.hits() - hits;
                missesPerStep = pool.misses() - misses;
                samples.add(mib(heapAfterWarmUp));
            } else if (step > WARM_UP) {
                // Buffers that reach the user (activations, the loss) are left to the collector and
                // come new each step; the count must not creep up, nor the pool's holdings.
                assertEquals(hitsPerStep, pool.hits() - hits, name + ": arrays reused in step " + step);
                assertEquals(missesPerStep, pool.misses() - misses, name + ": arrays made in step " + step);
                assertEquals(pooledAfterWarmUp, pool.pooledBytes(), name + ": pooled bytes after step " + step);
                if (step % INTERVAL == 0) {
                    long heap = collectedHeap();
                    maxHeap = Math.max(maxHeap, heap);
                    samples.add(mib(heap));
                    assertEquals(directAfterWarmUp, directBytes(), name + ": direct buffers at step " + step);
                }
            }
        }
        System.out.println("long run (" + name + ", " + STEPS + " steps): heap after GC at steps " + WARM_UP + ", "
                + (WARM_UP + INTERVAL) + ", ... " + STEPS + ": " + samples + " MiB; pool holds " + pooledAfterWarmUp
                + " bytes after every step, " + hitsPerStep + " reused and " + missesPerStep + " new arrays per step");
        long growth = maxHeap - heapAfterWarmUp;
        assertTrue(growth < HEAP_TOLERANCE, name + ": heap grew by " + growth + " bytes after warm-up: " + samples);
    }

    /** Heap in use after full collections, once nothing is left to collect. */
    static long collectedHeap() {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            used = Math.min(used, MEMORY.getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    private static long directBytes() {
        long bytes = 0;
        for (BufferPoolMXBean pool : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) {
            bytes += pool.getMemoryUsed();
        }
        return bytes;
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.2f", bytes / (double) (1 << 20));
    }
}
