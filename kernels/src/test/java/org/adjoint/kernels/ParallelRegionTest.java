package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/**
 * How the parts of one region are shared ({@link Parallel.Region}): the caller takes every part
 * that no worker has begun and waits only for the parts the workers did begin, so a late worker
 * delays nothing; and, through {@link Parallel#run}, every part runs once and has ended when the
 * region returns.
 */
class ParallelRegionTest {

    @Test
    void theCallerTakesThePartsNoWorkerBegan() {
        Parallel.Region region = new Parallel.Region(part -> { }, 3);
        assertEquals(1, region.claim());
        assertEquals(2, region.claim());
        assertEquals(-1, region.claim());
        // No worker came in: nothing to wait for.
        assertTrue(finishesWithin(region::awaitWorkers, 5), "awaitWorkers with no worker inside");
        // A worker arriving now finds every part taken and runs nothing.
        region.enter();
        assertEquals(-1, region.claim());
        region.finished(null);
        assertTrue(finishesWithin(region::awaitWorkers, 5), "awaitWorkers after the late worker left");
    }

    @Test
    void theCallerWaitsForAPartAWorkerBegan() throws InterruptedException {
        Parallel.Region region = new Parallel.Region(part -> { }, 2);
        CountDownLatch claimed = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread worker = Thread.ofPlatform().start(() -> {
            region.enter();
            int part = region.claim();
            claimed.countDown();
            await(release);
            assertEquals(1, part);
            region.finished(null);
        });
        assertTrue(claimed.await(10, TimeUnit.SECONDS));
        assertEquals(-1, region.claim(), "the worker holds part 1");
        Thread waiter = Thread.ofPlatform().start(region::awaitWorkers);
        waiter.join(100);
        assertTrue(waiter.isAlive(), "awaitWorkers returned while the worker's part ran");
        release.countDown();
        waiter.join(10_000);
        worker.join(10_000);
        assertFalse(waiter.isAlive(), "awaitWorkers did not return once the worker's part ended");
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
        assertTrue(finishesWithin(region::awaitWorkers, 5));
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

    @Test
    void aPartThatFailsIsRethrownByTheRegion() {
        int parts = Math.max(2, Parallel.THREADS);
        for (int failing = 0; failing < parts; failing++) {
            int which = failing;
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            try {
                Parallel.run(parts, part -> {
                    if (part == which) {
                        throw new IllegalArgumentException("part " + which + " failed on purpose");
                    }
                });
            } catch (IllegalArgumentException e) {
                thrown.set(e);
            }
            assertEquals("part " + which + " failed on purpose", thrown.get().getMessage());
        }
        // The workers are free again: the next region runs every part.
        everyPartRunsOnceAndHasEndedWhenRunReturns();
    }

    private static boolean finishesWithin(Runnable work, int seconds) {
        Thread thread = Thread.ofPlatform().start(work);
        try {
            thread.join(seconds * 1000L);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        return !thread.isAlive();
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
