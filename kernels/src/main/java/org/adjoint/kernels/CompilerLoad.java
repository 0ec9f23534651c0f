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
 * wall time to the end of the next, until {@link #QUIET_WINDOWS} windows in a row have passed
 * without: then the start-up is over and it never counts as busy again (a burst later, when a
 * new shape's code is compiled, is not worth halving a 2-core machine's kernels for; in a GEMM
 * benchmark such bursts took 300 ms windows from 250 to 165 GFLOP/s). Where the JVM does not
 * report compilation time (a runtime image without {@code java.management} included), or with
 * {@code -Dadjoint.cpu.yieldToCompiler=false}, it never counts as busy. No result depends on
 * this: every kernel does each element the same way whatever its thread count.
 */
final class CompilerLoad {

    /** The system property that turns this off ({@code false}); {@code true} by default. */
    static final String YIELD_PROPERTY = "adjoint.cpu.yieldToCompiler";

    /** A window's length in milliseconds. */
    static final int WINDOW_MILLIS = 100;

    /** The compiler's share of a window's wall time, in percent, from which it counts as busy. */
    static final int BUSY_PERCENT = 50;

    /**
     * After how many windows in a row without the compiler busy it counts as never busy again:
     * the start-up is over, and a later burst (a new shape's code, say) is not worth a thread.
     */
    static final int QUIET_WINDOWS = 5;

    /** This JVM's compiler, as {@link Parallel} sees it. */
    static final CompilerLoad JIT = jit();

    private final LongSupplier compiledMillis;
    private final LongSupplier clock;
    private final long windowNanos;
    private final int busyPercent;
    private final int quietWindows;

    private volatile long windowStart;
    private long compiledAtStart;
    private volatile boolean busy;
    private volatile boolean retired;
    private int quietInARow;

    /**
     * A compiler's load as {@code compiledMillis} reports it.
     *
     * @param compiledMillis the compiler's total time so far, in milliseconds, never decreasing;
     *                       {@code null}: never busy
     * @param clock          the time in nanoseconds ({@link System#nanoTime()})
     * @param windowMillis   a window's length, at least 1
     * @param busyPercent    the share of a window, in percent, from which the compiler counts as busy
     * @param quietWindows   after how many windows in a row without it the compiler counts as never busy again
     */
    CompilerLoad(LongSupplier compiledMillis, LongSupplier clock, int windowMillis, int busyPercent, int quietWindows) {
        if (windowMillis < 1 || busyPercent < 0 || quietWindows < 1) {
            throw new IllegalArgumentException("CompilerLoad: window " + windowMillis + " ms, busy share " + busyPercent
                    + " %, quiet windows " + quietWindows
                    + "; the window must be at least 1 ms, the share not negative and the quiet windows at least 1");
        }
        this.compiledMillis = compiledMillis;
        this.clock = clock;
        this.windowNanos = windowMillis * 1_000_000L;
        this.busyPercent = busyPercent;
        this.quietWindows = quietWindows;
        this.windowStart = clock.getAsLong();
        this.compiledAtStart = compiledMillis == null ? 0 : compiledMillis.getAsLong();
    }

    /**
     * Whether the compiler spent at least the busy share of the last full window compiling;
     * {@code false} where its time is not reported, and for good once it has been quiet for the
     * quiet windows in a row.
     */
    boolean busy() {
        if (compiledMillis == null || retired) {
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
        quietInARow = busy ? 0 : quietInARow + 1;
        retired = quietInARow >= quietWindows;
        compiledAtStart = compiled;
        windowStart = now;
    }

    private static CompilerLoad jit() {
        LongSupplier compiled = null;
        if (yieldWanted(System.getProperty(YIELD_PROPERTY))) {
            try {
                CompilationMXBean bean = ManagementFactory.getCompilationMXBean();
                if (bean != null && bean.isCompilationTimeMonitoringSupported()) {
                    compiled = bean::getTotalCompilationTime;
                }
            } catch (LinkageError e) {
                // A runtime image without java.management: compiled stays null, every thread kept.
            }
        }
        return new CompilerLoad(compiled, System::nanoTime, WINDOW_MILLIS, BUSY_PERCENT, QUIET_WINDOWS);
    }

    /**
     * Reads {@value #YIELD_PROPERTY}: unset means {@code true}.
     *
     * @param value the property's value, or {@code null}
     * @return whether the kernels leave the busy compiler a core
     * @throws IllegalArgumentException for anything but {@code true} or {@code false}
     */
    static boolean yieldWanted(String value) {
        return Switches.on(YIELD_PROPERTY, value);
    }
}
