package org.adjoint.kernels;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.function.LongSupplier;

/**
 * Whether the JIT compiler is busy: {@link Parallel} leaves it a core while it is. In a
 * process's first seconds the kernels run in the interpreter and C1 code while C2 compiles them
 * on threads of its own, and on a machine with few cores a second kernel thread, working or
 * spinning beside the caller, takes the core those compilations need: on a 2-core Intel Xeon
 * one kernel thread ran the GPT's first ten iterations in 3.3–3.4 s against 4.3–4.4 s with two,
 * and two were ahead from about the eleventh iteration on.
 *
 * <p>The measure is the JVM's own, {@link CompilationMXBean#getTotalCompilationTime()}: the
 * compiler threads' time summed, which grows by a whole compilation's time when it ends. It is
 * read when a region starts and the current window is over ({@link #WINDOW_MILLIS} ms: a long
 * compilation lands in one window, not spread over its duration). The compiler counts as busy
 * from the end of a window in which it spent at least {@link #BUSY_PERCENT} % of the window's
 * wall time to the end of the next. Where the JVM does not report compilation time, or with
 * {@code -Dadjoint.cpu.yieldToCompiler=false}, it never counts as busy. No result depends on
 * this: every kernel does each element the same way whatever its thread count.
 */
final class CompilerLoad {

    /** A window's length in milliseconds. */
    static final int WINDOW_MILLIS = 100;

    /** The compiler's share of a window's wall time, in percent, from which it counts as busy. */
    static final int BUSY_PERCENT = 50;

    /** This JVM's compiler, as {@link Parallel} sees it. */
    static final CompilerLoad JIT = jit();

    private final LongSupplier compiledMillis;
    private final LongSupplier clock;
    private final long windowNanos;
    private final int busyPercent;

    private volatile long windowStart;
    private long compiledAtStart;
    private volatile boolean busy;

    /**
     * A compiler's load as {@code compiledMillis} reports it.
     *
     * @param compiledMillis the compiler's total time so far, in milliseconds, never decreasing; {@code null}: never busy
     * @param clock          the time in nanoseconds ({@link System#nanoTime()})
     * @param windowMillis   a window's length, at least 1
     * @param busyPercent    the share of a window, in percent, from which the compiler counts as busy
     */
    CompilerLoad(LongSupplier compiledMillis, LongSupplier clock, int windowMillis, int busyPercent) {
        if (windowMillis < 1 || busyPercent < 0) {
            throw new IllegalArgumentException("CompilerLoad: window " + windowMillis
                    + " ms and busy share " + busyPercent + " %; the window must be at least 1 ms and the share not negative");
        }
        this.compiledMillis = compiledMillis;
        this.clock = clock;
        this.windowNanos = windowMillis * 1_000_000L;
        this.busyPercent = busyPercent;
        this.windowStart = clock.getAsLong();
        this.compiledAtStart = compiledMillis == null ? 0 : compiledMillis.getAsLong();
    }

    /**
     * Whether the compiler spent at least the busy share of the last full window compiling;
     * {@code false} where its time is not reported.
     */
    boolean busy() {
        if (compiledMillis == null) {
            return false;
        }
        if (clock.getAsLong() - windowStart >= windowNanos) {
            roll();
        }
        return busy;
    }

    /** Ends the window, unless another thread has just done so, and judges it. */
    private synchronized void roll() {
        long now = clock.getAsLong();
        long elapsed = now - windowStart;
        if (elapsed < windowNanos) {
            return;
        }
        long compiled = compiledMillis.getAsLong();
        busy = (compiled - compiledAtStart) * 1_000_000L * 100 >= elapsed * busyPercent;
        compiledAtStart = compiled;
        windowStart = now;
    }

    private static CompilerLoad jit() {
        CompilationMXBean bean = ManagementFactory.getCompilationMXBean();
        boolean wanted = Boolean.parseBoolean(System.getProperty("adjoint.cpu.yieldToCompiler", "true").trim());
        boolean reported = bean != null && bean.isCompilationTimeMonitoringSupported();
        return new CompilerLoad(wanted && reported ? bean::getTotalCompilationTime : null, System::nanoTime,
                WINDOW_MILLIS, BUSY_PERCENT);
    }
}
