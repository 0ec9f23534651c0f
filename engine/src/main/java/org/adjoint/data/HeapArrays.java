package org.adjoint.data;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Supplier;

import org.adjoint.backend.OutOfMemoryException;

/**
 * The readers' large allocations, which fail with an {@link OutOfMemoryException} that names
 * the file and the memory instead of an {@link OutOfMemoryError}.
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
        return allocate(file, length, Float.BYTES, purpose, () -> new float[(int) length]);
    }

    /** {@link Arrays#copyOf(float[], int)}. */
    static float[] copyOf(Path file, float[] array, int length, String purpose) {
        return allocate(file, length, Float.BYTES, purpose, () -> Arrays.copyOf(array, length));
    }

    /** {@link Arrays#copyOf(int[], int)}. */
    static int[] copyOf(Path file, int[] array, int length, String purpose) {
        return allocate(file, length, Integer.BYTES, purpose, () -> Arrays.copyOf(array, length));
    }

    /** {@link Arrays#copyOf(byte[], int)}. */
    static byte[] copyOf(Path file, byte[] array, int length, String purpose) {
        return allocate(file, length, 1, purpose, () -> Arrays.copyOf(array, length));
    }

    /** One array allocation, {@code make}, with the checks and the message of the class description. */
    private static <T> T allocate(Path file, long length, int elementBytes, String purpose, Supplier<T> make) {
        check(file, length, elementBytes, purpose);
        try {
            return make.get();
        } catch (OutOfMemoryError e) {
            throw exhausted(file, length, elementBytes, purpose, e);
        }
    }

    /** Refuses at once what no collection could make room for, rather than after a full GC. */
    private static void check(Path file, long length, int elementBytes, String purpose) {
        if (length * elementBytes > Runtime.getRuntime().maxMemory()) {
            throw exhausted(file, length, elementBytes, purpose, null);
        }
    }

    private static OutOfMemoryException exhausted(Path file, long length, int elementBytes, String purpose,
                                                  OutOfMemoryError cause) {
        Runtime runtime = Runtime.getRuntime();
        long used = runtime.totalMemory() - runtime.freeMemory();
        long bytes = length * elementBytes;
        return new OutOfMemoryException(file + ": " + purpose + " needs an array of " + length + " elements ("
                + bytes + " bytes), more than the heap can hold: " + used + " of at most " + runtime.maxMemory()
                + " bytes in use (raise -Xmx, or read a smaller file)", file + ": " + purpose, bytes, used,
                runtime.maxMemory(), cause);
    }
}
