package org.adjoint.autodiff;

/**
 * Anomaly detection, like PyTorch's {@code torch.autograd.detect_anomaly}: while it is on,
 * every value that appears on the tape is checked for NaN and infinities, and the first one
 * found stops the computation with an {@link AnomalyException} that names the operation,
 * the shapes of its inputs, the first bad element, and the line of user code that created
 * the operation.
 *
 * <p>What is checked, on the thread where the mode is on:
 * <ul>
 *   <li>the output of every recorded operation, right after it is computed, and every input
 *       that no recorded operation produced (a parameter, a constant, data), so that a NaN
 *       that entered from outside the tape is reported at the first operation that reads it;</li>
 *   <li>during a backward pass (and {@link Autodiff}'s transforms), the gradient that each
 *       rule produces for each of its inputs.</li>
 * </ul>
 * Operations that are not recorded (in a {@link GradMode#noGrad()} scope, or with no input
 * that requires a gradient) are not checked themselves; their results are, when a recorded
 * operation reads them. Forward-mode tangents are not checked.
 *
 * <p>Cost: each recorded operation walks the stack once to find its creator (the first frame
 * outside Adjoint's own packages), and each checked tensor costs two small kernels and one
 * element copied to the host (the values times zero, summed, are NaN exactly when one of them
 * is not finite), a few microseconds in all. On the CPU that made the training step of a
 * small MLP (0.15 ms) about 1.5 times as long, and a step whose time goes into large matrix
 * products a few percent longer. Off, the mode costs one thread-local read per recorded
 * operation.
 *
 * <pre>{@code
 * try (var _ = Anomaly.detect()) {
 *     Tensor loss = model.apply(x).log().mean();   // AnomalyException: log: output [4, 10] has NaN ...
 *     loss.backward();
 * }
 * }</pre>
 *
 * <p>The mode is off by default and, like {@link GradMode}, confined to a thread: a scope
 * opened on one thread does not affect another. The system property
 * {@code -Dadjoint.anomaly=true} turns it on for every thread instead (each thread starts
 * with the property's value).
 */
public final class Anomaly {

    /** The system property that turns anomaly detection on for every thread: {@value}. */
    public static final String PROPERTY = "adjoint.anomaly";

    private static final boolean DEFAULT = fromProperty();
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {DEFAULT});

    /**
     * {@code true} or {@code false} in any case, unset or bare for off; anything else ({@code 1},
     * {@code yes}) is said at WARNING and leaves detection off, where
     * Boolean.getBoolean read it as off without a word.
     */
    private static boolean fromProperty() {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            return false;
        }
        String word = value.strip().toLowerCase(java.util.Locale.ROOT);
        if (!word.equals("true") && !word.equals("false")) {
            java.util.logging.Logger.getLogger(Anomaly.class.getName()).warning("-D" + PROPERTY + "=" + value
                    + " is neither true nor false; anomaly detection stays off (pass -D" + PROPERTY + "=true)");
        }
        return word.equals("true");
    }

    private Anomaly() {
    }

    /**
     * Whether anomaly detection is on for the current thread.
     *
     * @return true inside a {@link #detect()} scope, or when the system property is set and no
     *         {@link #ignore()} scope is open
     */
    public static boolean isEnabled() {
        return ENABLED.get()[0];
    }

    /**
     * Turns anomaly detection on for this thread until the returned scope is closed; scopes nest.
     *
     * @return the scope to close (try-with-resources)
     */
    public static ModeScope detect() {
        return set(true);
    }

    /**
     * Turns anomaly detection off for this thread until the returned scope is closed: for a
     * computation inside a checked region that is allowed to produce infinities.
     *
     * @return the scope to close
     */
    public static ModeScope ignore() {
        return set(false);
    }

    private static ModeScope set(boolean enabled) {
        return ModeScope.set(ENABLED, enabled);
    }
}
