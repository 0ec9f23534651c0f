package org.adjoint.data;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Supplier;

import org.adjoint.backend.OutOfMemoryException;
import org.adjoint.internal.HostArrays;

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

    /** One array allocation, {@code make}, with the checks and the error of {@link HostArrays#allocate}. */
    private static <T> T allocate(Path file, long length, int elementBytes, String purpose, Supplier<T> make) {
        return HostArrays.allocate(() -> file + ": " + purpose, length, elementBytes, make);
    }
}
