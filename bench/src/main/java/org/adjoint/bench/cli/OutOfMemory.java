package org.adjoint.bench.cli;

import java.util.Locale;

import org.adjoint.backend.OutOfMemoryException;

/**
 * The one line a command prints when it runs out of memory: what was asked, what the Java
 * heap allows, and how to give it more ({@code ADJOINT_JAVA_OPTS=-Xmx...}, which the
 * {@code adjoint} launcher passes to the JVM). No stack trace: running out of memory is a
 * limit of the machine or of the settings, not a bug.
 */
final class OutOfMemory {

    private static final long GIB = 1L << 30;

    private OutOfMemory() {
    }

    /**
     * The line for an allocation the engine or a backend refused.
     *
     * @param command for example {@code adjoint train}
     * @param failure the exception
     * @return one line, no line break
     */
    static String line(String command, OutOfMemoryException failure) {
        long max = failure.heapMaxBytes();
        long used = failure.heapUsedBytes();
        long needed = saturatedAdd(used, failure.requestedBytes());
        return command + ": out of memory: " + failure.operation() + " asked for " + bytes(failure.requestedBytes())
                + "; the Java heap allows at most " + bytes(max) + ", " + bytes(used) + " in use. Give it more with "
                + "ADJOINT_JAVA_OPTS=-Xmx<size> (this request alone needs at least -Xmx" + heapSize(needed)
                + "), or ask for less";
    }

    /**
     * The line for an {@link OutOfMemoryError} that no allocation check caught.
     *
     * @param command for example {@code adjoint train}
     * @param failure the error
     * @return one line, no line break
     */
    static String line(String command, OutOfMemoryError failure) {
        Runtime runtime = Runtime.getRuntime();
        long max = runtime.maxMemory();
        long used = runtime.totalMemory() - runtime.freeMemory();
        String what = failure.getMessage() == null ? "" : " (" + failure.getMessage().lines().findFirst().orElse("")
                + ")";
        return command + ": out of memory" + what + "; the Java heap allows at most " + bytes(max) + ", " + bytes(used)
                + " in use now. Give it more with ADJOINT_JAVA_OPTS=-Xmx<size> (for example -Xmx"
                + heapSize(saturatedAdd(max, max)) + "), or ask for less";
    }

    /** {@code bytes} rounded up to whole MiB below 1 GiB, else to whole GiB, as -Xmx takes it: {@code 67m}, {@code 6g}. */
    private static String heapSize(long bytes) {
        long mebibytes = (bytes + (1 << 20) - 1) >> 20;
        return mebibytes < 1024 ? mebibytes + "m" : (bytes + GIB - 1) / GIB + "g";
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        return sum < 0 ? Long.MAX_VALUE : sum;
    }

    /** For example {@code 512 bytes}, {@code 4.0 KiB}, {@code 3.1 MiB} or {@code 6.0 GiB}. */
    static String bytes(long bytes) {
        if (bytes < 1024) {
            return bytes + " bytes";
        }
        if (bytes < 1 << 20) {
            return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        }
        if (bytes < GIB) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
        }
        return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) GIB);
    }
}
