package org.adjoint.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Finds backends on the class path and holds the one that new tensors are created on.
 *
 * <p>Selection, in order: a backend set with {@link #use(String)} or {@link #use(Backend)};
 * the system property {@code adjoint.backend} ({@code cpu} or {@code cuda}); otherwise the
 * available backend with the highest {@link Backend#priority()} (CUDA when a device and its
 * libraries load, else the CPU). Asking for a backend that is missing or unavailable is an
 * error that says why; it never silently falls back.
 *
 * <p>The current backend only decides where new tensors are created: an operation runs on the
 * backend its operands live on, so several backend instances (two GPUs, or two CPU backends
 * with their own buffer pools) can be used in one process, moving tensors between them with
 * {@code Tensor.to}.
 */
public final class Backends {

    /** System property that names the backend to use. */
    public static final String PROPERTY = "adjoint.backend";
    /** The prefix of every Adjoint setting: a reason that names one is a setting's doing. */
    private static final String PROPERTY_PREFIX = "adjoint.";

    private static final Logger LOG = Logger.getLogger(Backends.class.getName());
    private static volatile List<Backend> installed;
    private static volatile Backend current;
    /** Why a provider on the class path could not be loaded, for the errors that name backends. */
    private static volatile List<String> failures = List.of();

    private Backends() {
    }

    /**
     * Every backend on the class path, available or not, highest priority first.
     *
     * @return the installed backends
     */
    public static List<Backend> installed() {
        List<Backend> list = installed;
        if (list == null) {
            synchronized (Backends.class) {
                list = installed;
                if (list == null) {
                    List<Backend> found = new ArrayList<>();
                    List<String> broken = new ArrayList<>();
                    // One provider that cannot be loaded (a jar built for another JDK, a missing
                    // dependency) must not hide the others: it is reported, and the rest load.
                    Iterator<Backend> providers = ServiceLoader.load(Backend.class, Backends.class.getClassLoader())
                            .iterator();
                    while (true) {
                        try {
                            if (!providers.hasNext()) {
                                break;
                            }
                            found.add(providers.next());
                        } catch (ServiceConfigurationError | RuntimeException | LinkageError e) {
                            // An iterator that fails the same way again makes no progress (the
                            // class path itself cannot be read): stop rather than spin.
                            String failure = withCauses(e);
                            if (!broken.isEmpty() && broken.getLast().equals(failure)) {
                                break;
                            }
                            broken.add(failure);
                            LOG.log(Level.WARNING, "an Adjoint backend on the class path cannot be loaded", e);
                        }
                    }
                    found.sort(Comparator.comparingInt(Backend::priority).reversed());
                    failures = List.copyOf(broken);
                    installed = list = List.copyOf(found);
                }
            }
        }
        return list;
    }

    /**
     * The backend that tensors are created on, chosen on first use.
     *
     * @return the current backend
     * @throws IllegalStateException when no backend is installed, or the requested one is unavailable
     */
    public static Backend current() {
        Backend b = current;
        if (b == null) {
            synchronized (Backends.class) {
                b = current;
                if (b == null) {
                    String requested = System.getProperty(PROPERTY);
                    try {
                        b = requested == null || requested.isBlank() ? best() : find(requested);
                    } catch (IllegalStateException e) {
                        if (requested == null || requested.isBlank()) {
                            throw e;
                        }
                        throw new IllegalStateException("-D" + PROPERTY + "=" + requested + ": " + e.getMessage(), e);
                    }
                    Backend chosen = b;
                    LOG.fine(() -> "Adjoint backend: " + chosen.name());
                    current = b;
                }
            }
        }
        return b;
    }

    /**
     * Makes the named backend current.
     *
     * @param name a backend name such as {@code cpu} or {@code cuda}
     * @return the backend now in use
     * @throws IllegalStateException when it is not installed or cannot run here
     */
    public static Backend use(String name) {
        Backend b = find(name);
        current = b;
        return b;
    }

    /**
     * Makes the given backend current (tests use this to run one suite on several backends).
     *
     * @param backend an available backend
     * @return {@code backend}
     * @throws IllegalStateException when it reports itself unavailable
     */
    public static Backend use(Backend backend) {
        current = requireAvailable(backend);
        return backend;
    }

    /**
     * Checks that a backend can run here.
     *
     * @param backend a backend
     * @return {@code backend}
     * @throws IllegalStateException with the reason when it reports itself unavailable
     */
    public static Backend requireAvailable(Backend backend) {
        backend.unavailableReason().ifPresent(reason -> {
            throw new IllegalStateException("backend '" + backend.name() + "' is unavailable: " + reason);
        });
        return backend;
    }

    /**
     * The backend of that name, without making it current: the current backend when it has
     * that name (it may be an instance given to {@link #use(Backend)}), else the installed one.
     *
     * @param name a backend name such as {@code cpu} or {@code cuda}
     * @return the backend
     * @throws IllegalStateException when it is not installed or cannot run here, with the reason
     */
    public static Backend named(String name) {
        Backend active = current;
        if (active != null && active.name().equals(name.trim().toLowerCase(Locale.ROOT))) {
            return active;
        }
        return find(name);
    }

    private static Backend find(String name) {
        String wanted = name.trim().toLowerCase(Locale.ROOT);
        List<Backend> all = installed();
        for (Backend b : all) {
            if (b.name().equals(wanted)) {
                return requireAvailable(b);
            }
        }
        String add = KNOWN.contains(wanted) ? "; add org.adjoint:adjoint-" + wanted + "-backend"
                : "; Adjoint's backends are " + KNOWN;
        throw new IllegalStateException("backend '" + wanted + "' is not on the class path (installed: "
                + all.stream().map(Backend::name).toList() + ")" + add + brokenProviders());
    }

    private static Backend best() {
        List<Backend> all = installed();
        if (all.isEmpty() && !failures.isEmpty()) {
            // On the class path but not loadable (a bad -Dadjoint.cpu.* value, a missing module):
            // the provider's own message says what to change, not "add the artifact".
            throw new IllegalStateException("no Adjoint backend could be loaded" + brokenProviders());
        }
        if (all.isEmpty()) {
            throw new IllegalStateException("no Adjoint backend on the class path: add the artifact "
                    + "org.adjoint:adjoint-cpu-backend (or org.adjoint:adjoint-cuda-backend for NVIDIA GPUs)");
        }
        StringBuilder reasons = new StringBuilder();
        for (Backend b : all) {
            var reason = b.unavailableReason();
            if (reason.isEmpty()) {
                return b;
            }
            if (namesASetting(reason.get())) {
                // A missing GPU is a normal state, passed over quietly; a setting that turned one
                // off (a typo in -Dadjoint.cuda.*) is not, and is said where it will be seen.
                LOG.warning(b.name() + " is not used: " + reason.get());
            }
            reasons.append("; ").append(b.name()).append(": ").append(reason.get());
        }
        throw new IllegalStateException("no installed Adjoint backend can run here" + reasons + brokenProviders());
    }

    /** The names of Adjoint's own backends, each in an artifact {@code adjoint-NAME-backend}. */
    private static final List<String> KNOWN = List.of("cpu", "cuda");

    /**
     * Whether a reason names an {@code adjoint.*} setting that is set (not one it only
     * suggests: "add its folder to -Dadjoint.cuda.libraryPath" on a machine without cuBLAS).
     */
    private static boolean namesASetting(String reason) {
        for (String key : System.getProperties().stringPropertyNames()) {
            if (key.startsWith(PROPERTY_PREFIX) && reason.contains("-D" + key + "=")) {
                return true;
            }
        }
        return false;
    }

    /** A failure and its causes, each as {@code Class: message}: a provider's own reason is a cause down. */
    private static String withCauses(Throwable e) {
        StringBuilder text = new StringBuilder(e.toString());
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        seen.add(e);
        for (Throwable cause = e.getCause(); cause != null && seen.add(cause); cause = cause.getCause()) {
            text.append(", caused by ").append(cause);
        }
        return text.toString();
    }

    private static String brokenProviders() {
        List<String> broken = failures;
        return broken.isEmpty() ? "" : "; providers that could not be loaded: " + String.join("; ", broken);
    }
}
