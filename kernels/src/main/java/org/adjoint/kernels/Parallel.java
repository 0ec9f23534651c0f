package org.adjoint.kernels;

import java.util.Arrays;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;
import java.util.function.IntFunction;

/**
 * The threads the kernels share: {@code threads − 1} workers of our own and the calling thread,
 * which always runs part 0 itself, so every core is busy without oversubscription.
 * {@code -Dadjoint.cpu.threads=N} sets the thread count (default: available processors).
 *
 * <p>A worker that finishes a part waits for the next region spinning for a while
 * ({@value #DEFAULT_SPIN_MICROS} µs, or {@code -Dadjoint.cpu.spinMicros}) before it parks, as
 * OpenMP runtimes do, and so does the caller waiting for the workers' parts: a training step
 * runs hundreds of parallel regions with little serial work between them, and handing a region
 * to a parked thread of a fork-join pool cost 40–50 µs back to back and 75–125 µs after a pause
 * on a quiet 2-core Zen 4 virtual machine, as much as a small region's whole work. After the
 * first 20 µs the spinning thread calls {@link Thread#yield()}, which is free while nothing else
 * wants the core and gives it up when something does.
 *
 * <p>The parts of a region go to whichever thread claims them first: a worker offered the region
 * takes the parts still free, and the caller, done with part 0, takes the rest itself and waits
 * only for the parts a worker has begun. A worker that comes late (its core lent to the JIT
 * compiler, or to another process, while it yielded) then finds nothing left instead of holding
 * the caller up. So a part may run on any thread, and after another part on the same thread.
 *
 * <p>While the JIT compiler is busy ({@link CompilerLoad}) a region runs on one thread fewer, so
 * that the compilations that make the kernels fast have a core.
 *
 * <p>One region runs at a time. A region asked for while another runs (another thread's), or
 * from inside a region (a worker, or any fork-join pool's task), runs all its parts on the
 * calling thread, in order.
 */
final class Parallel {

    static final int THREADS = threads();

    /** How long an idle thread spins before it parks, unless {@code adjoint.cpu.spinMicros} says otherwise. */
    static final int DEFAULT_SPIN_MICROS = 1000;

    /**
     * Element boundaries of {@link #ranges}: a multiple of every vector length (up to 16 floats)
     * and of a cache line, so a vector loop's body and its scalar tail cover the same elements
     * whatever the split.
     */
    static final int ALIGN = 64;

    /**
     * How many ranges {@link #ranges} and {@link #rows} cut per thread at most (each still at
     * least the caller's minimum): enough that a late thread's share is taken over by the
     * others a range at a time, few enough that claiming them costs nothing measurable.
     */
    static final int RANGES_PER_THREAD = 4;

    private static final long SPIN_NANOS = spinMicros() * 1000L;
    /** The first part of a wait, spent in {@link Thread#onSpinWait()} alone. */
    private static final long PAUSE_NANOS = Math.min(SPIN_NANOS, 20_000L);
    private static final Worker[] WORKERS = workers();

    /** Held by the one region that has the workers. */
    private static final AtomicBoolean BUSY = new AtomicBoolean();

    private Parallel() {
    }

    /**
     * Runs a region whose parts share one piece of work (a GEMM's packed panels): on
     * {@code parts} threads when the workers are free for it (fewer while the compiler is busy),
     * else as a single part on the calling thread. The parts must not depend on running at the
     * same time (see {@link PanelSchedule}): a part may start after the others have finished, on
     * the calling thread after its own.
     *
     * @param parts  the parts wanted (at most {@link #THREADS})
     * @param region given the number of parts that will run at once, the work of one part
     */
    static void together(int parts, IntFunction<IntConsumer> region) {
        int wanted = parts <= 1 || nested() ? 1 : Math.min(parts, available());
        if (wanted <= 1 || !BUSY.compareAndSet(false, true)) {
            region.apply(1).accept(0);
            return;
        }
        try {
            dispatch(wanted, region.apply(wanted));
        } finally {
            BUSY.set(false);
        }
    }

    /**
     * Runs {@code body.accept(part)} for every part in {@code [0, parts)} and returns when all
     * are done: on the workers too when they are free (parts beyond the threads available,
     * {@link #THREADS} or one fewer while the compiler is busy, are shared out among them), else
     * every part on the calling thread. An exception in any part is rethrown once every part
     * that began has ended; a part that had not begun when another failed may not run at all.
     *
     * @param parts number of parts
     * @param body  the work of one part
     */
    static void run(int parts, IntConsumer body) {
        int threads = parts <= 1 || nested() ? 1 : available();
        if (threads <= 1 || !BUSY.compareAndSet(false, true)) {
            for (int part = 0; part < parts; part++) {
                body.accept(part);
            }
            return;
        }
        try {
            if (parts <= threads) {
                dispatch(parts, body);
            } else {
                // Each thread takes parts from one counter. Claiming each part from the region
                // itself instead measured no faster (GPT, 600 iterations: 35.9 ms against 35.1,
                // four alternating pairs, Intel Xeon with AVX-512, 2026-12-06).
                AtomicInteger next = new AtomicInteger();
                dispatch(threads, thread -> {
                    for (int part = next.getAndIncrement(); part < parts; part = next.getAndIncrement()) {
                        body.accept(part);
                    }
                });
            }
        } finally {
            BUSY.set(false);
        }
    }

    /**
     * Runs {@code body} over the elements of many arrays taken end to end, split as
     * {@link #ranges} splits elements: each range is handed over as the pieces of the arrays it
     * covers, in order. Array {@code k} is elements {@code [starts[k], starts[k + 1])} of the
     * whole; empty arrays get no piece.
     *
     * @param starts  where each array begins, then the total ({@code count + 1} entries, not decreasing, from 0)
     * @param minimum the fewest elements worth a range of their own
     * @param body    the work of one piece
     */
    static void endToEnd(int[] starts, int minimum, Piece body) {
        int count = starts.length - 1;
        ranges(starts[count], minimum, (from, to) -> {
            if (from >= to) {
                return;
            }
            // The last array that begins at or before from; empty arrays on the way, and one that
            // ends where from is, give no piece below.
            int k = Arrays.binarySearch(starts, from);
            k = k >= 0 ? k : -k - 2;
            for (int at = from; at < to; k++) {
                int end = Math.min(to, starts[k + 1]);
                if (end > at) {
                    body.run(k, at - starts[k], end - starts[k]);
                }
                at = end;
            }
        });
    }

    /** The body of one piece of {@link #endToEnd}: elements {@code [from, to)} of array {@code array}. */
    interface Piece {
        /**
         * Does elements {@code [from, to)} of one array.
         *
         * @param array which array
         * @param from  its first element
         * @param to    one past its last
         */
        void run(int array, int from, int to);
    }

    /** The body of one part of {@link #ranges}: elements {@code [from, to)}. */
    interface Range {
        /**
         * Does elements {@code [from, to)}.
         *
         * @param from first element
         * @param to   one past the last
         */
        void run(int from, int to);
    }

    /**
     * Runs {@code body} over {@code [0, n)}, split into up to {@link #RANGES_PER_THREAD} ranges a
     * thread of at least {@code minimum} elements whose boundaries are multiples of
     * {@link #ALIGN}, which the threads claim as they become free; on the calling thread alone
     * when {@code n} is under two such ranges. Every element is done by the same
     * code whatever the split, so results do not depend on the thread count.
     *
     * @param n       elements
     * @param minimum the fewest elements worth a range of their own (more work than waking a thread)
     * @param body    the work of one range
     */
    static void ranges(int n, int minimum, Range body) {
        split(n, minimum, ALIGN, body);
    }

    /**
     * Runs {@code body} over rows {@code [0, n)}, split as {@link #ranges} splits elements but at
     * any row: for work whose rows are independent of each other and done the same way wherever
     * they fall.
     *
     * @param n       rows
     * @param minimum the fewest rows worth a range of their own
     * @param body    the work of one range of rows
     */
    static void rows(int n, int minimum, Range body) {
        split(n, minimum, 1, body);
    }

    /**
     * Whether {@link #ranges} or {@link #rows} would split {@code n} at {@code minimum}: callers on
     * a path that must not allocate check first, and call the loop directly when not.
     *
     * @param n       elements or rows
     * @param minimum the fewest worth a range of their own
     * @return whether there would be more than one range
     */
    static boolean splits(int n, int minimum) {
        return THREADS > 1 && n / Math.max(1L, minimum) >= 2;
    }

    private static void split(int n, int minimum, int align, Range body) {
        long most = n / Math.max(1L, minimum);
        if (Math.min(THREADS, most) <= 1) {
            body.run(0, n);
            return;
        }
        // Up to RANGES_PER_THREAD ranges a thread, claimed in turn by whichever thread is free
        // (run's shared counter): with one range a thread, a thread that started late (woken
        // late, or descheduled by another process) kept the caller waiting for all of its share.
        int parts = (int) Math.min((long) THREADS * RANGES_PER_THREAD, most);
        long perPart = ((long) n + parts - 1) / parts;
        int chunk = (int) Math.min(n, (perPart + align - 1) / align * align);
        run(parts, part -> {
            int from = (int) Math.min(n, (long) part * chunk);
            int to = (int) Math.min(n, (long) from + chunk);
            if (from < to) {
                body.run(from, to);
            }
        });
    }

    /**
     * The threads a region may use now: all of them, or one fewer while the JIT compiler is busy
     * ({@link CompilerLoad}), so that it has a core of its own.
     */
    private static int available() {
        // One thread needs no judge (and leaves CompilerLoad, and java.management, unloaded).
        return THREADS == 1 ? 1 : available(CompilerLoad.JIT);
    }

    /** {@link #available()} as {@code compiler} judges the compiler's load. */
    static int available(CompilerLoad compiler) {
        return THREADS > 1 && compiler.busy() ? THREADS - 1 : THREADS;
    }

    /** Whether the calling thread is already inside a region (ours, or any fork-join pool's task). */
    private static boolean nested() {
        return Thread.currentThread() instanceof Worker || ForkJoinTask.inForkJoinPool();
    }

    /**
     * One step of a wait that started at {@code start}: a pause while the wait is short, then
     * {@link Thread#yield()} until the spin time is over.
     *
     * @return whether to go on spinning; {@code false} once the spin time is over (park then)
     */
    private static boolean spin(long start) {
        long waited = System.nanoTime() - start;
        if (waited < PAUSE_NANOS) {
            Thread.onSpinWait();
            return true;
        }
        if (waited < SPIN_NANOS) {
            Thread.yield();
            return true;
        }
        return false;
    }

    /**
     * Runs parts {@code [0, parts)} of {@code body}: part 0 on the calling thread, the others on
     * whichever threads claim them first. The workers are offered the region; the caller, done
     * with part 0, takes any part that no worker has begun and runs it itself, and then waits
     * only for the parts the workers did begin. A worker that is late (descheduled, or its core
     * lent to the JIT compiler while it yielded) thus delays nothing: waiting for it to come
     * back only to find its share done cost the GPT's training step about 1.8 ms of 27 on the
     * Intel Xeon of 2026-12-06, when C2 was still compiling in the background (see the CPU
     * guide).
     */
    private static void dispatch(int parts, IntConsumer body) {
        Region region = new Region(body, parts);
        for (int w = 0; w < parts - 1; w++) {
            WORKERS[w].give(region);
        }
        Throwable failure = null;
        try {
            body.accept(0);
            region.runFreeParts();
        } catch (Throwable t) {
            failure = t;
            region.close();
        }
        // Whatever the caller's parts did, the parts the workers began end before the workers are free again.
        region.awaitWorkers();
        Throwable theirs = region.failure;
        if (failure == null) {
            failure = theirs;
        } else if (theirs != null && theirs != failure) {
            failure.addSuppressed(theirs);
        }
        if (failure != null) {
            throw Parallel.<RuntimeException>rethrow(failure);
        }
    }

    /** Throws {@code failure} as it is (an unchecked exception, an error, or a checked one thrown past the compiler). */
    @SuppressWarnings("unchecked")
    private static <T extends Throwable> T rethrow(Throwable failure) throws T {
        throw (T) failure;
    }

    /**
     * One region: its parts, the next one to begin, the workers inside it, the first failure.
     * A worker counts itself in ({@link #enter}) before it claims a part, and the caller looks
     * at that count only after its own claim found none left; so either the caller sees the
     * worker counted and waits for it, or the worker's claim finds nothing and it runs nothing.
     */
    static final class Region {
        final IntConsumer body;
        final int parts;
        /** The next part to begin; part 0 is the caller's. */
        final AtomicInteger next = new AtomicInteger(1);
        final AtomicInteger running = new AtomicInteger();
        final Thread caller = Thread.currentThread();
        volatile boolean callerParked;
        volatile Throwable failure;

        Region(IntConsumer body, int parts) {
            this.body = body;
            this.parts = parts;
        }

        /** A part no thread has begun, now the caller's, or −1 when every part is taken. */
        int claim() {
            if (next.get() >= parts) {
                return -1;
            }
            int part = next.getAndIncrement();
            return part < parts ? part : -1;
        }

        /** Runs the parts no thread has begun, one after another, until none is left. */
        void runFreeParts() {
            for (int part = claim(); part >= 0; part = claim()) {
                body.accept(part);
            }
        }

        /** After a failure: no part begins any more (those begun still end). */
        void close() {
            next.accumulateAndGet(parts, Math::max);
        }

        /** A worker is inside the region (it may claim parts until it calls {@link #finished}). */
        void enter() {
            running.incrementAndGet();
        }

        /** A worker's parts have ended, by returning or by {@code thrown}; counted even if recording fails. */
        void finished(Throwable thrown) {
            try {
                if (thrown != null) {
                    close();
                    record(thrown);
                }
            } finally {
                if (running.decrementAndGet() == 0 && callerParked) {
                    LockSupport.unpark(caller);
                }
            }
        }

        private synchronized void record(Throwable thrown) {
            if (failure == null) {
                failure = thrown;
            } else if (failure != thrown) {
                failure.addSuppressed(thrown);
            }
        }

        /** Spins while the parts the workers began run (about as long as the caller's), then parks. */
        void awaitWorkers() {
            long start = System.nanoTime();
            while (running.get() > 0) {
                if (spin(start)) {
                    continue;
                }
                callerParked = true;
                if (running.get() > 0) {
                    // Bounded, and re-checked: an interrupt only makes this loop spin until the parts end.
                    LockSupport.parkNanos(this, 1_000_000L);
                }
            }
        }
    }

    /**
     * A worker: takes each region it is offered and runs the parts of it that are still free,
     * spinning between regions before it parks. A region offered while the worker was away may
     * be over when it looks: it then finds no part to run.
     */
    private static final class Worker extends Thread {
        private final AtomicReference<Region> offered = new AtomicReference<>();
        private volatile boolean parked;

        Worker(int index) {
            super("adjoint-kernels-" + index);
            setDaemon(true);
        }

        void give(Region region) {
            offered.set(region);
            if (parked) {
                LockSupport.unpark(this);
            }
        }

        @Override
        public void run() {
            while (true) {
                Region region = await();
                region.enter();
                Throwable thrown = null;
                try {
                    region.runFreeParts();
                } catch (Throwable t) {
                    thrown = t;
                }
                try {
                    region.finished(thrown);
                } catch (Throwable t) {
                    // Recording the part's failure failed (out of memory): the part is counted
                    // as ended all the same and the caller rethrows what it has; this worker
                    // stays for the next region.
                    continue;
                }
            }
        }

        /** The region offered, taken so that one offered meanwhile stays for the next call. */
        private Region await() {
            long start = System.nanoTime();
            while (true) {
                if (offered.get() != null) {
                    Region region = offered.getAndSet(null);
                    if (region != null) {
                        return region;
                    }
                }
                if (spin(start)) {
                    continue;
                }
                parked = true;
                // Read again after announcing the park: a region given in between is seen here, or its giver unparks us.
                if (offered.get() == null) {
                    LockSupport.park(this);
                }
                parked = false;
                start = System.nanoTime();
            }
        }
    }

    private static Worker[] workers() {
        Worker[] workers = new Worker[Math.max(0, THREADS - 1)];
        for (int w = 0; w < workers.length; w++) {
            workers[w] = new Worker(w);
            workers[w].start();
        }
        return workers;
    }

    private static int threads() {
        return atLeast("adjoint.cpu.threads", Runtime.getRuntime().availableProcessors(), 1);
    }

    private static int spinMicros() {
        return atLeast("adjoint.cpu.spinMicros", DEFAULT_SPIN_MICROS, 0);
    }

    private static int atLeast(String property, int fallback, int least) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= least) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below with the value
        }
        throw new IllegalArgumentException(property + " must be an integer of at least " + least + ", got '" + value
                + "'");
    }
}
