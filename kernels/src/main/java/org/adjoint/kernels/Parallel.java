package org.adjoint.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntConsumer;
import java.util.function.IntFunction;

/**
 * The one thread pool the kernels share. The calling thread always runs part 0 itself, so
 * a pool of {@code threads − 1} workers keeps every core busy without oversubscription.
 * {@code -Dadjoint.cpu.threads=N} sets the thread count (default: available processors).
 */
final class Parallel {

    static final int THREADS = threads();
    private static final ForkJoinPool POOL = THREADS > 1
            ? new ForkJoinPool(THREADS - 1, pool -> {
                var thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
                thread.setName("adjoint-kernels-" + thread.getPoolIndex());
                thread.setDaemon(true);
                return thread;
            }, null, false)
            : null;

    /**
     * Element boundaries of {@link #ranges}: a multiple of every vector length (up to 16 floats)
     * and of a cache line, so a vector loop's body and its scalar tail cover the same elements
     * whatever the split.
     */
    static final int ALIGN = 64;

    /** Held by the one region of parts that wait for each other (see {@link #together}). */
    private static final AtomicBoolean TOGETHER = new AtomicBoolean();

    private Parallel() {
    }

    /**
     * Runs a region whose parts share one piece of work (a GEMM's packed panels): on
     * {@code parts} threads when the pool is free for it, else as a single part on the calling
     * thread. Only one region at a time gets the pool, so two products do not split the cores
     * between them and interleave their panels in the caches; callers already inside it run
     * alone. The parts must not depend on running at the same time (see {@link PanelSchedule}):
     * a pool thread may start its part after the others have finished the work.
     *
     * @param parts  the parts wanted (at most {@link #THREADS})
     * @param region given the number of parts that will run at once, the work of one part
     */
    static void together(int parts, IntFunction<IntConsumer> region) {
        if (parts <= 1 || POOL == null || ForkJoinTask.inForkJoinPool() || !TOGETHER.compareAndSet(false, true)) {
            region.apply(1).accept(0);
            return;
        }
        try {
            run(parts, region.apply(parts));
        } finally {
            TOGETHER.set(false);
        }
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
     * Runs {@code body} over {@code [0, n)}, split into up to {@link #THREADS} ranges of at least
     * {@code minimum} elements whose boundaries are multiples of {@link #ALIGN}; on the calling
     * thread alone when {@code n} is under two such ranges. Every element is done by the same
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

    private static void split(int n, int minimum, int align, Range body) {
        int parts = (int) Math.min(THREADS, n / Math.max(1L, minimum));
        if (parts <= 1) {
            body.run(0, n);
            return;
        }
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

    private static int threads() {
        String value = System.getProperty("adjoint.cpu.threads");
        if (value == null || value.isBlank()) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below with the value
        }
        throw new IllegalArgumentException("adjoint.cpu.threads must be a positive integer, got '" + value + "'");
    }

    /**
     * Runs {@code body.accept(part)} for every part in {@code [0, parts)} and returns when all
     * are done; parts beyond the first run on the pool. An exception in any part is rethrown.
     *
     * @param parts number of parts (at most {@link #THREADS} for full overlap)
     * @param body  the work of one part
     */
    static void run(int parts, IntConsumer body) {
        if (parts <= 1 || POOL == null || ForkJoinTask.inForkJoinPool()) {
            for (int part = 0; part < parts; part++) {
                body.accept(part);
            }
            return;
        }
        ForkJoinTask<?>[] others = new ForkJoinTask<?>[parts - 1];
        for (int part = 1; part < parts; part++) {
            int index = part;
            others[part - 1] = POOL.submit(() -> body.accept(index));
        }
        Throwable failure = null;
        try {
            body.accept(0);
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        for (ForkJoinTask<?> task : others) {
            try {
                task.join();
            } catch (RuntimeException | Error e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
    }
}
