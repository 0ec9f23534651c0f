package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * How the parts of one region are shared ({@link Parallel.Region}): the caller takes every part
 * that no worker has begun and waits only for the parts the workers did begin, so a late worker
 * delays nothing; and, through {@link Parallel#run}, every part runs once, on the workers too,
 * and has ended when the region returns, failures included.
 */
class ParallelRegionTest {

    @BeforeAll
    static void regionsGetTheirThreads() {
        CompilerLoadTest.assertRegionsGetTheirThreads();
    }

    @Test
    void theCallerTakesThePartsNoWorkerBegan() {
        Parallel.Region region = new Parallel.Region(part -> { }, 3);
        assertEquals(1, region.claim());
        assertEquals(2, region.claim());
        assertEquals(-1, region.claim());
        // No worker came in: nothing to wait for.
        region.awaitWorkers();
        // A worker arriving now finds every part taken and runs nothing.
        region.enter();
        assertEquals(-1, region.claim());
        region.finished(null);
        region.awaitWorkers();
    }

    /** The caller waits (spinning, then parked, then woken by the worker) for the part a worker holds. */
    @Test
    void theCallerWaitsForAPartAWorkerBegan() throws InterruptedException {
        Parallel.Region region = new Parallel.Region(part -> { }, 2);
        CountDownLatch claimed = new CountDownLatch(1);
        AtomicInteger workerPart = new AtomicInteger(-2);
        AtomicBoolean partEnded = new AtomicBoolean();
        Thread worker = Thread.ofPlatform().start(() -> {
            region.enter();
            workerPart.set(region.claim());
            claimed.countDown();
            // Longer than the caller's spin, so that it parks and this thread's finish wakes it.
            pause(50);
            partEnded.set(true);
            region.finished(null);
        });
        assertTrue(claimed.await(10, TimeUnit.SECONDS));
        assertEquals(1, workerPart.get(), "the worker's claim");
        assertEquals(-1, region.claim(), "the worker holds part 1");
        region.awaitWorkers();
        assertTrue(partEnded.get(), "awaitWorkers returned while the worker's part ran");
        worker.join(10_000);
    }

    @Test
    void aFailedPartClosesTheRegionAndIsKept() {
        Parallel.Region region = new Parallel.Region(part -> { }, 4);
        IllegalStateException failure = new IllegalStateException("part 1 failed on purpose");
        region.enter();
        assertEquals(1, region.claim());
        region.finished(failure);
        assertEquals(-1, region.claim(), "no part begins after a failure");
        assertSame(failure, region.failure);
        region.awaitWorkers();
    }

    @Test
    void everyPartRunsOnceAndHasEndedWhenRunReturns() {
        int parts = Math.max(2, Parallel.THREADS);
        for (int round = 0; round < 2_000; round++) {
            AtomicIntegerArray begun = new AtomicIntegerArray(parts);
            AtomicIntegerArray ended = new AtomicIntegerArray(parts);
            int spin = round % 7;
            Parallel.run(parts, part -> {
                begun.incrementAndGet(part);
                // Parts of uneven length, a few microseconds at most.
                long until = System.nanoTime() + 1_000L * ((part + spin) % 5);
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
                ended.incrementAndGet(part);
            });
            for (int part = 0; part < parts; part++) {
                assertEquals(1, begun.get(part), "round " + round + ", part " + part + " begun");
                assertEquals(1, ended.get(part), "round " + round + ", part " + part + " ended");
            }
        }
    }

    /** Part 0 holds the caller until part 1 has begun, which only a worker can then do. */
    @Test
    void theWorkersRunParts() {
        assumeTrue(Parallel.THREADS >= 2, "one kernel thread: every part runs on the caller");
        Thread caller = Thread.currentThread();
        for (int round = 0; round < 20; round++) {
            CountDownLatch second = new CountDownLatch(1);
            AtomicInteger onWorker = new AtomicInteger();
            Parallel.run(2, part -> {
                if (part == 0) {
                    await(second);
                } else {
                    second.countDown();
                }
                if (Thread.currentThread() != caller) {
                    onWorker.incrementAndGet();
                }
            });
            assertEquals(1, onWorker.get(), "round " + round + ": part 1 ran on a worker");
        }
    }

    @Test
    void aPartThatFailsIsRethrownByTheRegion() {
        int parts = Math.max(2, Parallel.THREADS);
        for (int failing = 0; failing < parts; failing++) {
            int which = failing;
            IllegalArgumentException thrown = assertThrows(IllegalArgumentException.class, () -> Parallel.run(parts,
                    part -> {
                        if (part == which) {
                            throw new IllegalArgumentException("part " + which + " failed on purpose");
                        }
                    }));
            assertEquals("part " + which + " failed on purpose", thrown.getMessage());
        }
        // The workers are free again: the next region runs every part.
        everyPartRunsOnceAndHasEndedWhenRunReturns();
    }

    /** The caller's part and a worker's both fail: the caller's failure carries the worker's. */
    @Test
    void theCallersAndAWorkersFailuresAreBothReported() {
        assumeTrue(Parallel.THREADS >= 2, "one kernel thread: no worker to fail");
        CountDownLatch workerFailed = new CountDownLatch(1);
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> Parallel.run(2, part -> {
            if (part == 0) {
                await(workerFailed);
                throw new IllegalStateException("part 0 failed on purpose");
            }
            workerFailed.countDown();
            throw new IllegalArgumentException("part 1 failed on purpose");
        }));
        assertEquals("part 0 failed on purpose", thrown.getMessage());
        assertEquals(1, thrown.getSuppressed().length, "the worker's failure, suppressed");
        assertEquals("part 1 failed on purpose", thrown.getSuppressed()[0].getMessage());
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(10, TimeUnit.SECONDS), "the other part never began");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
