package org.adjoint.cuda.internal;

import java.util.Locale;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Picks the binding of one CUDA library (cuBLAS or NVRTC): JCuda's when its JNI library and
 * CUDA 12's library load, else the {@code java.lang.foreign} one (CUDA 13). The system
 * property {@value #PROPERTY} ({@code jcuda} or {@code ffm}) forces one.
 *
 * @param <T>         the binding's type
 * @param binding     the binding chosen
 * @param explanation which one and why, for the start-up log line
 */
public record BindingChoice<T>(T binding, String explanation) {

    /** System property that forces a binding: {@code jcuda} or {@code ffm}. */
    public static final String PROPERTY = "adjoint.cuda.bindings";

    /**
     * Chooses with the system property as it is set.
     *
     * @param <T>         the binding's type
     * @param library     the library's name for messages, {@code cuBLAS} or {@code NVRTC}
     * @param jcuda       opens the JCuda binding; throws when it cannot
     * @param foreign     opens the {@code java.lang.foreign} binding; throws when it cannot
     * @param description what a binding calls itself
     * @return the choice
     * @throws UnavailableException when no allowed binding opens, saying what each one failed on
     */
    public static <T> BindingChoice<T> choose(String library, Supplier<T> jcuda, Supplier<T> foreign,
                                              Function<T, String> description) {
        return choose(library, System.getProperty(PROPERTY), jcuda, foreign, description);
    }

    /**
     * Chooses for a given value of the property (tests pass it directly).
     *
     * @param <T>         the binding's type
     * @param library     the library's name for messages
     * @param forced      the property's value, or {@code null}
     * @param jcuda       opens the JCuda binding
     * @param foreign     opens the {@code java.lang.foreign} binding
     * @param description what a binding calls itself
     * @return the choice
     * @throws UnavailableException when no allowed binding opens
     */
    static <T> BindingChoice<T> choose(String library, String forced, Supplier<T> jcuda, Supplier<T> foreign,
                                       Function<T, String> description) {
        String mode = forced == null ? "" : forced.strip().toLowerCase(Locale.ROOT);
        switch (mode) {
            case "" -> {
                String jcudaFailure;
                try {
                    T binding = jcuda.get();
                    return new BindingChoice<>(binding, library + " through " + description.apply(binding));
                } catch (RuntimeException | LinkageError e) {
                    jcudaFailure = NativeErrors.summary(e);
                }
                try {
                    T binding = foreign.get();
                    return new BindingChoice<>(binding, library + " through " + description.apply(binding)
                            + ", because JCuda's binding did not load (" + jcudaFailure + ")");
                } catch (RuntimeException | LinkageError e) {
                    throw new UnavailableException(library + " does not load through either binding: JCuda: " + jcudaFailure
                            + "; java.lang.foreign: " + NativeErrors.summary(e));
                }
            }
            case "jcuda", "ffm" -> {
                boolean useJcuda = mode.equals("jcuda");
                try {
                    T binding = (useJcuda ? jcuda : foreign).get();
                    return new BindingChoice<>(binding, library + " through " + description.apply(binding)
                            + " (forced by -D" + PROPERTY + "=" + mode + ")");
                } catch (RuntimeException | LinkageError e) {
                    throw new UnavailableException(library + " does not load through the "
                            + (useJcuda ? "JCuda" : "java.lang.foreign") + " binding that -D" + PROPERTY + "=" + mode
                            + " asks for: " + NativeErrors.summary(e));
                }
            }
            default -> throw new UnavailableException("-D" + PROPERTY + "=" + forced
                    + " is not a binding (expected jcuda or ffm)");
        }
    }
}
