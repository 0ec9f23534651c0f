package org.adjoint.data;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * The readers' large allocations, which fail with an {@link IllegalArgumentException} that
 * names the file and the memory instead of an {@link OutOfMemoryError}.
 *
 * <p>Catching {@code OutOfMemoryError} is sound here and nowhere broader: each call is one
 * array allocation, which either happens or leaves nothing behind, and the JVM throws only
 * after a full collection has failed to make room. What the reader built so far becomes
 * garbage as the exception leaves it, so the heap is as it was before the read.
 */
final class HeapArrays {

    private HeapArrays() {
    }

    /** A zero-filled array of {@code length} floats. */
    static float[] floats(Path file, long length, String purpose) {
        check(file, length, Float.BYTES, purpose);
        try {
            return new float[(int) length];
        } catch (OutOfMemoryError e) {
            throw exhausted(file, length, Float.BYTES, purpose, e);
        }
    }

    /** {@link Arrays#copyOf(float[], int)}. */
    static float[] copyOf(Path file, float[] array, int length, String purpose) {
        check(file, length, Float.BYTES, purpose);
        try {
            return Arrays.copyOf(array, length);
        } catch (OutOfMemoryError e) {
            throw exhausted(file, length, Float.BYTES, purpose, e);
        }
    }

    /** {@link Arrays#copyOf(int[], int)}. */
    static int[] copyOf(Path file, int[] array, int length, String purpose) {
        check(file, length, Integer.BYTES, purpose);
        try {
            return Arrays.copyOf(array, length);
        } catch (OutOfMemoryError e) {
            throw exhausted(file, length, Integer.BYTES, purpose, e);
        }
    }

    /** {@link Arrays#copyOf(byte[], int)}. */
    static byte[] copyOf(Path file, byte[] array, int length, String purpose) {
        check(file, length, 1, purpose);
        try {
            return Arrays.copyOf(array, length);
        } catch (OutOfMemoryError e) {
            throw exhausted(file, length, 1, purpose, e);
        }
    }

    /** Refuses at once what no collection could make room for, rather than after a full GC. */
    private static void check(Path file, long length, int elementBytes, String purpose) {
        if (length * elementBytes > Runtime.getRuntime().maxMemory()) {
            throw exhausted(file, length, elementBytes, purpose, null);
        }
    }

    private static IllegalArgumentException exhausted(Path file, long length, int elementBytes, String purpose,
                                                      OutOfMemoryError cause) {
        Runtime runtime = Runtime.getRuntime();
        long used = runtime.totalMemory() - runtime.freeMemory();
        return new IllegalArgumentException(file + ": " + purpose + " needs an array of " + length + " elements ("
                + length * elementBytes + " bytes), more than the heap can hold: " + used + " of at most "
                + runtime.maxMemory() + " bytes in use (raise -Xmx, or read a smaller file)", cause);
    }
}
