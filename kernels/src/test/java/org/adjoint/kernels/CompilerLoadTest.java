package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/** {@link CompilerLoad}'s windows, on a clock and a compiler total the test moves by hand. */
class CompilerLoadTest {

    private static final long MS = 1_000_000L;

    private final AtomicLong now = new AtomicLong(5_000 * MS);
    private final AtomicLong compiled = new AtomicLong(1_234);

    /**
     * Fails unless this JVM runs with {@code -Dadjoint.cpu.yieldToCompiler=false}, as the build's
     * tests do: otherwise a busy JIT could quietly run a threaded-against-serial test serially.
     */
    static void assertRegionsGetTheirThreads() {
        assertFalse(CompilerLoad.yieldWanted(System.getProperty(CompilerLoad.YIELD_PROPERTY)),
                "run with -D" + CompilerLoad.YIELD_PROPERTY + "=false (as the build does)");
    }

    private CompilerLoad load() {
        return new CompilerLoad(compiled::get, now::get, 100, 50, 3);
    }

    /** Whether {@code load} is busy after a window of {@code millis} with {@code compiling} ms compiled in it. */
    private boolean after(CompilerLoad load, long millis, long compiling) {
        now.addAndGet(millis * MS);
        compiled.addAndGet(compiling);
        return load.busy();
    }

    @Test
    void aWindowWithHalfItsTimeCompilingMakesTheNextBusy() {
        CompilerLoad load = load();
        assertFalse(load.busy(), "nothing measured yet");
        assertTrue(after(load, 100, 50), "50 ms compiling in a 100 ms window");
        assertTrue(after(load, 99, 1), "the verdict holds until the window is over");
        now.addAndGet(MS);
        assertFalse(load.busy(), "1 ms compiling in the second window");
    }

    @Test
    void lessThanTheShareIsNotBusy() {
        CompilerLoad load = load();
        assertFalse(after(load, 100, 49));
    }

    @Test
    void aLongWindowIsJudgedOverItsWholeLength() {
        CompilerLoad load = load();
        // 150 ms compiling over 400 ms (a pause between regions): 37.5 %, not busy.
        assertFalse(after(load, 400, 150));
        // Two compiler threads together: 180 ms over 100.
        assertTrue(after(load, 100, 180));
    }

    @Test
    void quietWindowsInARowEndTheStartUpForGood() {
        CompilerLoad load = load();
        // busy, quiet, quiet, busy: two quiet windows in a row are not yet three.
        for (int compiling : new int[] {80, 10, 10, 80}) {
            assertEquals(compiling >= 50, after(load, 100, compiling), compiling + " ms compiling");
        }
        for (int w = 0; w < 3; w++) {
            assertFalse(after(load, 100, 0));
        }
        // The third quiet window in a row retired it: a burst now is not busy.
        assertFalse(after(load, 100, 100));
    }

    @Test
    void withoutAReportedTimeItIsNeverBusy() {
        CompilerLoad load = new CompilerLoad(null, now::get, 100, 0, 3);
        now.addAndGet(1_000 * MS);
        assertFalse(load.busy());
    }

    @Test
    void parallelRegionsLeaveTheBusyCompilerACore() {
        assumeTrue(Parallel.THREADS > 1, "one kernel thread has none to leave");
        CompilerLoad load = load();
        assertEquals(Parallel.THREADS, Parallel.available(load));
        now.addAndGet(100 * MS);
        compiled.addAndGet(100);
        assertEquals(Parallel.THREADS - 1, Parallel.available(load));
    }

    @Test
    void badSettingsAreRejectedWithTheirValues() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CompilerLoad(compiled::get, now::get, 0, 50, 3));
        assertTrue(e.getMessage().contains("window 0 ms"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new CompilerLoad(compiled::get, now::get, 100, -1, 3));
        assertTrue(e.getMessage().contains("busy share -1 %"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new CompilerLoad(compiled::get, now::get, 100, 50, 0));
        assertTrue(e.getMessage().contains("quiet windows 0"), e.getMessage());
    }
}
