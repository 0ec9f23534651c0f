package org.adjoint.backend;

import java.util.Optional;

/**
 * What every backend must implement: its identity and the required core of operations
 * ({@link MemoryOps}, {@link ArithmeticOps}, {@link ReductionOps}, {@link IndexOps}). Every
 * other operation of {@link Backend} has a default body written only with these, so a new
 * backend starts by implementing this interface's abstract methods and nothing else, and
 * overrides composed operations later where it has something faster.
 *
 * <p>All arrays are row-major and contiguous unless a method takes strides. Callers check
 * shapes and sizes before calling; a backend may assume its arguments are consistent.
 * Methods that write an output overwrite it completely unless documented otherwise.
 */
public interface BackendCore extends MemoryOps, ArithmeticOps, ReductionOps, IndexOps {

    /**
     * Short lower-case name used by {@code -Dadjoint.backend}, for example {@code cpu}.
     *
     * @return the name
     */
    String name();

    /**
     * The device this instance computes on, for messages: several instances of one backend
     * (one per GPU, say) share a {@link #name()} and differ here.
     *
     * @return for example {@code cuda:1}; the name unless the backend says more
     */
    default String device() {
        return name();
    }

    /**
     * Preference among available backends; the highest wins when none is requested.
     *
     * @return the priority (CPU uses 0, accelerators more)
     */
    int priority();

    /**
     * Why this backend cannot run here, or empty when it can.
     *
     * @return the reason it is unavailable, for example a missing native library
     */
    Optional<String> unavailableReason();
}
