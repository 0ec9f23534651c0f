package org.adjoint.cpu;

import java.lang.management.ManagementFactory;
import java.util.Arrays;

/**
 * Counts the bytes that the calling thread and the kernels' worker threads allocate on the
 * heap over a window, with {@link com.sun.management.ThreadMXBean}. Other threads of the JVM
 * (the test runner's, the JIT's) are left out: what they allocate meanwhile is not the code
 * under test's doing. Reading the counters allocates nothing; finding the threads does, so
 * that happens before and after the window.
 */
final class HeapAllocations {

    /** How {@code Parallel} names the kernel pool's workers. */
    private static final String KERNEL_THREAD_PREFIX = "adjoint-kernels-";

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private long[] watched;
    private long[] start;

    private HeapAllocations() {
    }

    /**
     * Starts counting.
     *
     * @return the counter
     * @throws IllegalStateException when this JVM cannot count allocations per thread
     */
    static HeapAllocations start() {
        if (!THREADS.isThreadAllocatedMemorySupported() || !THREADS.isThreadAllocatedMemoryEnabled()) {
            throw new IllegalStateException("this JVM does not count the bytes each thread allocates "
                    + "(ThreadMXBean.isThreadAllocatedMemorySupported/Enabled)");
        }
        HeapAllocations count = new HeapAllocations();
        count.watched = watchedThreads();
        count.start = new long[count.watched.length];
        for (int i = 0; i < count.watched.length; i++) {
            count.start[i] = THREADS.getThreadAllocatedBytes(count.watched[i]);
        }
        return count;
    }

    /**
     * The bytes allocated since {@link #start()} by the watched threads, including the whole
     * allocation of kernel workers that started in the meantime.
     *
     * @return the bytes
     */
    long stop() {
        long bytes = 0;
        for (int i = 0; i < watched.length; i++) {
            long now = THREADS.getThreadAllocatedBytes(watched[i]);
            // -1 for a thread that has ended: only an idle pool worker does, a minute after its last task.
            if (now >= 0 && start[i] >= 0) {
                bytes += now - start[i];
            }
        }
        for (long id : watchedThreads()) {
            if (Arrays.stream(watched).noneMatch(known -> known == id)) {
                bytes += Math.max(0, THREADS.getThreadAllocatedBytes(id));
            }
        }
        return bytes;
    }

    private static long[] watchedThreads() {
        long self = Thread.currentThread().threadId();
        long[] workers = Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().startsWith(KERNEL_THREAD_PREFIX))
                .mapToLong(Thread::threadId)
                .toArray();
        long[] ids = Arrays.copyOf(workers, workers.length + 1);
        ids[workers.length] = self;
        return ids;
    }
}
