package org.adjoint.internal;

import java.util.Locale;
import java.util.function.Supplier;

import org.adjoint.backend.OutOfMemoryException;

/**
 * The engine's own arrays on the Java heap (random samples before upload, copies a tensor
 * hands out, masks, readers' tables): each allocation fails with an
 * {@link OutOfMemoryException} that names the operation, the bytes asked and the heap,
 * instead of an {@link OutOfMemoryError}.
 *
 * <p>Catching {@code OutOfMemoryError} is sound around one allocation and nowhere wider: the
 * allocation either happened or left nothing behind, and the JVM throws only after a full
 * collection failed to make room. Callers allocate before they change any state, so a
 * failure leaves everything as it was.
 */
public final class HostArrays {

    /** The longest array HotSpot allocates, less a margin (as the CPU backend's buffers). */
    public static final int MAX_LENGTH = Integer.MAX_VALUE - 8;

    private HostArrays() {
    }

    /**
     * A zero-filled float array.
     *
     * @param operation what asks for it, named in the error, such as {@code Tensor.randn [3, 4]}
     * @param length    element count
     * @return the array
     * @throws OutOfMemoryException when the heap cannot hold it
     */
    public static float[] floats(String operation, long length) {
        return allocate(operation, length, Float.BYTES, () -> new float[(int) length]);
    }

    /**
     * One array allocation with the size checks and the error of the class description.
     *
     * @param <T>          the array type
     * @param operation    what asks for it, named in the error
     * @param length       element count
     * @param elementBytes bytes of one element
     * @param make         allocates the array of {@code length} elements (it may also copy into it)
     * @return what {@code make} returned
     * @throws OutOfMemoryException when no Java array or no heap can hold it
     */
    public static <T> T allocate(String operation, long length, int elementBytes, Supplier<T> make) {
        return allocate(() -> operation, length, elementBytes, make);
    }

    /**
     * {@link #allocate(String, long, int, Supplier)} with the operation's name built only when
     * the allocation fails: readers name a tensor by its whole header entry, which costs more
     * than a small array.
     *
     * @param <T>          the array type
     * @param operation    builds the name of what asks for it
     * @param length       element count
     * @param elementBytes bytes of one element
     * @param make         allocates the array of {@code length} elements (it may also copy into it)
     * @return what {@code make} returned
     * @throws OutOfMemoryException when no Java array or no heap can hold it
     */
    public static <T> T allocate(Supplier<String> operation, long length, int elementBytes, Supplier<T> make) {
        long bytes = checked(operation, length, elementBytes);
        try {
            return make.get();
        } catch (OutOfMemoryError e) {
            throw exhausted(operation.get(), bytes, "the heap is full", e);
        }
    }

    /** The bytes of the array; refuses at once what no collection could make room for, rather than after a full GC. */
    private static long checked(Supplier<String> operation, long length, int elementBytes) {
        if (length < 0) {
            throw new IllegalArgumentException(operation.get() + ": cannot allocate " + length + " elements");
        }
        long bytes = length > Long.MAX_VALUE / elementBytes ? Long.MAX_VALUE : length * elementBytes;
        if (length > MAX_LENGTH) {
            throw exhausted(operation.get(), bytes, "a Java array holds at most " + MAX_LENGTH + " elements", null);
        }
        if (bytes > maxHeapBytes()) {
            throw exhausted(operation.get(), bytes, "more than the heap's maximum", null);
        }
        return bytes;
    }

    /** The most heap the JVM may use ({@code -Xmx}). */
    private static long maxHeapBytes() {
        return Runtime.getRuntime().maxMemory();
    }

    /**
     * The error for an allocation of {@code bytes} that failed, with the heap as it is now.
     *
     * @param operation what asked for it
     * @param bytes     its size
     * @param reason    why it failed, such as {@code the heap is full}
     * @param cause     the {@link OutOfMemoryError} it replaces, or {@code null}
     * @return the exception to throw
     */
    public static OutOfMemoryException exhausted(String operation, long bytes, String reason, Throwable cause) {
        Runtime runtime = Runtime.getRuntime();
        long used = runtime.totalMemory() - runtime.freeMemory();
        long max = runtime.maxMemory();
        return new OutOfMemoryException(operation + ": cannot allocate " + bytes(bytes) + " on the Java heap: " + reason
                + "; heap in use " + bytes(used) + " of at most " + bytes(max) + " (raise -Xmx, use smaller tensors, "
                + "or drop references to tensors no longer needed)", operation, bytes, used, max, cause);
    }

    /**
     * A byte count as the engine's memory errors write it.
     *
     * @param bytes the count
     * @return for example {@code 1024 bytes} or {@code 6400000000 bytes = 6103.5 MiB}
     */
    public static String bytes(long bytes) {
        return bytes < 1 << 20 ? bytes + " bytes"
                : bytes + " bytes = " + String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
    }
}
