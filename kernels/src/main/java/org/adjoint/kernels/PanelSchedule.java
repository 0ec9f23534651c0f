package org.adjoint.kernels;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Who does what in one multi-threaded {@link PackedGemm} call. The call is a sequence of
 * phases, one per packed panel of B (a block of k times a block of columns); each phase has
 * packing units (slivers of B) and compute units (blocks of C), and threads claim units of
 * either kind from counters instead of owning a fixed share.
 *
 * <p>A party barrier made every thread wait for the slowest one twice per phase; on a machine
 * where other processes take turns on the cores, the slowest one is whichever was just
 * descheduled, and the waiter spinning beside it took the CPU it needed, so two threads ran
 * slower than one. Here a thread waits only for units that another thread has claimed and is
 * running: a thread that arrives late (or never, when its part runs after the others) finds
 * the units done and blocks nobody. Two panel buffers alternate, so packing phase {@code p + 1}
 * waits only for phase {@code p − 1}'s products, and overlaps phase {@code p}'s. Waiters spin
 * briefly, then park until the unit's finisher unparks them.
 */
final class PanelSchedule {

    private static final int PACK_CLAIMED = 0;
    private static final int PACK_DONE = 1;
    private static final int COMPUTE_CLAIMED = 2;
    private static final int COMPUTE_DONE = 3;
    /** About 10–40 µs of {@code pause}: longer than a unit's tail on an idle machine, far shorter than a time slice. */
    private static final int SPINS = 1 << 10;

    private final int packUnits;
    private final int computeUnits;
    private final AtomicIntegerArray counters;
    /** Per compute unit: how many phases of it are done (its block of C takes them in order). */
    private final AtomicIntegerArray unitPhases;
    private final AtomicReferenceArray<Thread> waiting;
    /**
     * Per part: what its parked thread waits for, the index into {@link #counters}, or
     * {@code -1 - unit} for a unit of {@link #unitPhases}; and the value it waits to reach.
     */
    private final AtomicIntegerArray waitIndex;
    private final AtomicIntegerArray waitTarget;
    /** Set by a part that failed: the units it claimed will never be done. */
    private volatile boolean abandoned;

    PanelSchedule(int phases, int packUnits, int computeUnits, int threads) {
        this.packUnits = packUnits;
        this.computeUnits = computeUnits;
        this.counters = new AtomicIntegerArray(4 * phases);
        this.unitPhases = new AtomicIntegerArray(computeUnits);
        this.waiting = new AtomicReferenceArray<>(threads);
        this.waitIndex = new AtomicIntegerArray(threads);
        this.waitTarget = new AtomicIntegerArray(threads);
    }

    /** The next packing unit of {@code phase} for the caller, or −1 when all are claimed. */
    int claimPack(int phase) {
        return claim(phase, PACK_CLAIMED, packUnits);
    }

    void packed(int phase) {
        finish(phase, PACK_DONE);
    }

    /** The next compute unit of {@code phase} for the caller, or −1 when all are claimed. */
    int claimCompute(int phase) {
        return claim(phase, COMPUTE_CLAIMED, computeUnits);
    }

    /** Returns once {@code unit} is done for every phase before {@code phase}: it accumulates into the same C. */
    void awaitUnit(int phase, int unit, int part) {
        await(unitPhases, unit, -1 - unit, phase, part);
    }

    void computed(int phase, int unit) {
        // A block of the next panel of columns need not wait for this one, so it may finish first.
        unitPhases.accumulateAndGet(unit, phase + 1, Math::max);
        finish(phase, COMPUTE_DONE);
    }

    /** Returns once every packing unit of {@code phase} is done. */
    void awaitPacked(int phase, int part) {
        await(phase, PACK_DONE, packUnits, part);
    }

    /** Returns once every compute unit of {@code phase} is done ({@code phase < 0}: at once). */
    void awaitComputed(int phase, int part) {
        if (phase >= 0) {
            await(phase, COMPUTE_DONE, computeUnits, part);
        }
    }

    /**
     * Records that a part failed, so that the units it claimed will never be done, and wakes
     * every waiting part: each then throws {@link Abandoned} (see {@link #await}) instead of
     * waiting for ever, which {@link PackedGemm} turns into a quiet end of that part; the failing
     * part throws its own failure, which the region rethrows.
     */
    void abandon() {
        abandoned = true;
        for (int i = 0; i < waiting.length(); i++) {
            Thread thread = waiting.get(i);
            if (thread != null) {
                LockSupport.unpark(thread);
            }
        }
    }

    private int claim(int phase, int kind, int units) {
        int index = 4 * phase + kind;
        if (counters.get(index) >= units) {
            return -1;
        }
        int unit = counters.getAndIncrement(index);
        return unit < units ? unit : -1;
    }

    /** Counts a finished unit and wakes the parked threads it may have released. */
    private void finish(int phase, int kind) {
        counters.incrementAndGet(4 * phase + kind);
        wake();
    }

    /**
     * Unparks each parked thread whose condition now holds. Waking every parked thread on every
     * finished unit cost a system call each time, and threads woken too early parked again:
     * {@code unpark} was a tenth of the MLP step's samples. The count is raised before this
     * reads the registrations, and a waiter registers before it looks at the count, so the
     * finisher that completes a condition always sees the thread waiting for it.
     */
    private void wake() {
        for (int i = 0; i < waiting.length(); i++) {
            Thread thread = waiting.get(i);
            if (thread != null) {
                int index = waitIndex.get(i);
                int value = index >= 0 ? counters.get(index) : unitPhases.get(-1 - index);
                if (value >= waitTarget.get(i)) {
                    LockSupport.unpark(thread);
                }
            }
        }
    }

    private void await(int phase, int kind, int units, int part) {
        await(counters, 4 * phase + kind, 4 * phase + kind, units, part);
    }

    private void await(AtomicIntegerArray values, int index, int code, int target, int part) {
        for (int spins = 0; spins < SPINS; spins++) {
            if (values.get(index) >= target) {
                return;
            }
            checkAbandoned();
            Thread.onSpinWait();
        }
        // Registered (condition first) before the last check, so a finisher that completes the
        // condition after it sees this thread and unparks it; likewise abandon().
        waitIndex.set(part, code);
        waitTarget.set(part, target);
        waiting.set(part, Thread.currentThread());
        try {
            while (values.get(index) < target) {
                checkAbandoned();
                LockSupport.park(this);
            }
        } finally {
            waiting.set(part, null);
        }
    }

    private void checkAbandoned() {
        if (abandoned) {
            throw new Abandoned();
        }
    }

    /**
     * Thrown by a part that stopped waiting because another part failed; only control flow (the
     * failing part reports the failure), so it carries no stack trace.
     */
    static final class Abandoned extends RuntimeException {

        private static final long serialVersionUID = 1L;

        Abandoned() {
            super("sgemm: another thread's part of this product failed; this part stopped waiting for its units",
                    null, false, false);
        }
    }
}
