package org.adjoint.autodiff;

import java.io.Serial;

/**
 * A NaN or an infinity found by {@link Anomaly} detection. The message names the operation,
 * what held the bad value (its output, one of its inputs, or the gradient its rule produced
 * for an input), shapes, the first bad element and its row-major index, and where the
 * operation was created; the accessors give the same facts to a program.
 */
public final class AnomalyException extends ArithmeticException {

    @Serial
    private static final long serialVersionUID = 1L;

    /** The stage at which the bad value was found. */
    public enum Stage {
        /** In an operation's output, or in an input that no recorded operation produced. */
        FORWARD,
        /** In the gradient a derivative rule produced during a backward pass. */
        BACKWARD
    }

    private final String operation;
    private final Stage stage;
    private final long index;
    private final float value;
    private final StackTraceElement createdAt;

    /**
     * Creates the exception; the engine's checks do, with a message that states every field.
     *
     * @param message   the full message
     * @param operation the operation's name, such as {@code log}
     * @param stage     forward or backward
     * @param index     row-major index of the first bad element in the tensor that held it
     * @param value     that element: NaN or an infinity
     * @param createdAt the user's stack frame that created the operation, or {@code null} when unknown
     */
    public AnomalyException(String message, String operation, Stage stage, long index, float value,
                            StackTraceElement createdAt) {
        super(message);
        this.operation = operation;
        this.stage = stage;
        this.index = index;
        this.value = value;
        this.createdAt = createdAt;
    }

    /**
     * The operation whose value or gradient was bad.
     *
     * @return its name, as in other error messages ({@code matmul}, {@code log}, a custom function's name)
     */
    public String operation() {
        return operation;
    }

    /**
     * Whether the value was found in the forward or the backward pass.
     *
     * @return the stage
     */
    public Stage stage() {
        return stage;
    }

    /**
     * Row-major index of the first bad element.
     *
     * @return the index
     */
    public long index() {
        return index;
    }

    /**
     * The first bad element.
     *
     * @return NaN, or a positive or negative infinity
     */
    public float value() {
        return value;
    }

    /**
     * Where the user's code created the operation: the first stack frame outside Adjoint's
     * own packages when the operation was recorded.
     *
     * @return the frame, or {@code null} when the operation was recorded with anomaly
     *         detection off or no such frame was on the stack
     */
    public StackTraceElement createdAt() {
        return createdAt;
    }
}
