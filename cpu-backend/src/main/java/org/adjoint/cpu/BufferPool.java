package org.adjoint.cpu;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Released {@code float[]} buffers kept for reuse, by exact length. A training step asks for
 * the same sizes every time, so after the first step most large allocations are served from
 * here instead of the garbage collector (for G1, arrays of a megabyte and more are
 * "humongous" objects, each one expensive to allocate and to collect).
 *
 * <p>Arrays shorter than {@value #MIN_LENGTH} elements are not pooled: the young generation
 * handles them well. The pool holds at most a fixed number of bytes
 * ({@code -Dadjoint.cpu.poolBytes}, default a quarter of the maximum heap); beyond that,
 * released arrays are left to the garbage collector. Thread-safe.
 */
public final class BufferPool {

    /** Shortest array worth pooling. */
    public static final int MIN_LENGTH = 4096;

    private final long capacityBytes;
    /**
     * Queues by {@link #key} of the length. An array given back is in the queue of its length
     * and nowhere else, so a second {@link #give} of one is found by scanning that queue for it:
     * a few references read in a row, where an identity set (kept here until 2026-12-06) read
     * each pooled array's header to hash it, a cache miss apiece, on the thread that runs the
     * training step's serial parts (18 % of them in the GPT's step on an Intel Xeon).
     */
    private final Map<Integer, ArrayDeque<float[]>> free = new HashMap<>();
    private long pooledBytes;
    private long hits;
    private long misses;

    /**
     * Creates an empty pool.
     *
     * @param capacityBytes the most bytes it holds
     */
    public BufferPool(long capacityBytes) {
        this.capacityBytes = capacityBytes;
    }

    static long defaultCapacityBytes() {
        String value = System.getProperty("adjoint.cpu.poolBytes");
        if (value != null && !value.isBlank()) {
            long bytes;
            try {
                bytes = Long.parseLong(value.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("-Dadjoint.cpu.poolBytes must be a number of bytes (0 for no pool), got '"
                        + value + "'", e);
            }
            if (bytes < 0) {
                throw new IllegalArgumentException("-Dadjoint.cpu.poolBytes must be at least 0 (0 for no pool), got "
                        + bytes);
            }
            return bytes;
        }
        return Runtime.getRuntime().maxMemory() / 4;
    }

    /**
     * A zero-filled array, reused when one of that length was given back.
     *
     * @param length element count
     * @return the array
     */
    public float[] take(int length) {
        float[] reused = reuse(length);
        if (reused == null) {
            return new float[length];
        }
        Arrays.fill(reused, 0f);
        return reused;
    }

    /**
     * An array whose contents are unspecified (what its previous user left in it), reused
     * when one of that length was given back: for a caller that overwrites every element.
     *
     * @param length element count
     * @return the array
     */
    public float[] takeUninitialized(int length) {
        float[] reused = reuse(length);
        return reused == null ? new float[length] : reused;
    }

    /**
     * The map key of a length: the length times an odd constant, a one-to-one map of the ints.
     * Buffer lengths are mostly multiples of large powers of two, which an {@code Integer}'s
     * own hash sends to a few buckets of the map (turned into trees, 0.6 % of a GPT step).
     */
    private static int key(int length) {
        return length * 0x9E3779B9;
    }

    /** A given-back array of that length, or {@code null} (counted as a miss when poolable). */
    private float[] reuse(int length) {
        if (length < MIN_LENGTH) {
            return null;
        }
        synchronized (this) {
            ArrayDeque<float[]> queue = free.get(key(length));
            float[] reused = queue == null ? null : queue.pollLast();
            if (reused != null) {
                pooledBytes -= 4L * length;
                hits++;
            } else {
                misses++;
            }
            return reused;
        }
    }

    /**
     * Gives an array back; the caller must not use it afterwards.
     *
     * @param array a released array
     */
    public void give(float[] array) {
        if (array.length < MIN_LENGTH) {
            return;
        }
        synchronized (this) {
            ArrayDeque<float[]> queue = free.get(key(array.length));
            if (queue != null && holds(queue, array)) {
                // Two later takes would hand the one array to two owners: refused, not pooled twice.
                throw new IllegalStateException("cpu buffer pool: an array of " + array.length + " floats was given "
                        + "back twice (a buffer released twice)");
            }
            if (pooledBytes + 4L * array.length > capacityBytes) {
                return;
            }
            if (queue == null) {
                queue = new ArrayDeque<>();
                free.put(key(array.length), queue);
            }
            queue.addLast(array);
            pooledBytes += 4L * array.length;
        }
    }

    /** Whether {@code queue} holds this very array (not merely an equal one). */
    private static boolean holds(ArrayDeque<float[]> queue, float[] array) {
        for (float[] pooled : queue) {
            if (pooled == array) {
                return true;
            }
        }
        return false;
    }

    /**
     * Drops every cached array, leaving them to the garbage collector. The backend calls this
     * when the heap has no room for a new buffer, before it tries once more.
     *
     * @return the bytes the pool held
     */
    public synchronized long release() {
        long released = pooledBytes;
        free.clear();
        pooledBytes = 0;
        return released;
    }

    /**
     * Requests for poolable sizes served from the pool so far.
     *
     * @return the count
     */
    public synchronized long hits() {
        return hits;
    }

    /**
     * Requests for poolable sizes that needed a new array.
     *
     * @return the count
     */
    public synchronized long misses() {
        return misses;
    }

    /**
     * Bytes currently held for reuse.
     *
     * @return the total
     */
    public synchronized long pooledBytes() {
        return pooledBytes;
    }
}
