package org.adjoint.kernels;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;
import java.util.logging.Logger;

/**
 * How {@link KernelProvider#lookup()} and {@link KernelProvider#named} choose and load a
 * provider: the vector one only where {@code jdk.incubator.vector} is readable and C2 runs, and
 * loaded by class name so that the scalar one works without the module.
 */
final class KernelSelection {

    private static final Logger LOG = Logger.getLogger(KernelProvider.class.getName());

    /** The provider of this JVM, chosen when this class is first used. */
    static final KernelProvider CHOSEN = choose();

    private KernelSelection() {
    }

    static KernelProvider named(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "scalar" -> ScalarKernels.INSTANCE;
            case "vector" -> {
                String reason = vectorUnavailableReason();
                if (reason != null) {
                    throw new UnsupportedOperationException("vector kernels unavailable: " + reason);
                }
                yield loadVector();
            }
            default -> throw new IllegalArgumentException("unknown kernel provider '" + name
                    + "' (expected vector or scalar, in -D" + KernelProvider.PROPERTY + ")");
        };
    }

    private static KernelProvider choose() {
        String forced = System.getProperty(KernelProvider.PROPERTY);
        if (forced != null && !forced.isBlank()) {
            KernelProvider provider = named(forced);
            LOG.info(() -> "Adjoint CPU kernels: " + provider.name() + " (forced by -D" + KernelProvider.PROPERTY
                    + ")");
            return provider;
        }
        String reason = vectorUnavailableReason();
        if (reason == null) {
            KernelProvider provider = loadVector();
            LOG.fine(() -> "Adjoint CPU kernels: " + provider.description());
            return provider;
        }
        LOG.warning("Adjoint CPU kernels: scalar, because " + reason);
        return ScalarKernels.INSTANCE;
    }

    private static String vectorUnavailableReason() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return "the module jdk.incubator.vector is not readable (run java with --add-modules"
                    + " jdk.incubator.vector for SIMD kernels)";
        }
        try {
            List<String> args = ManagementFactory.getRuntimeMXBean().getInputArguments();
            for (String arg : args) {
                if (arg.equals("-Xint") || arg.startsWith("-XX:TieredStopAtLevel=") && !arg.endsWith("=4")
                        || arg.equals("-XX:-UseCompiler")) {
                    return "the C2 JIT is off (" + arg + "), and the Vector API is slow without it";
                }
            }
        } catch (LinkageError | SecurityException e) {
            // Without java.management the flags cannot be read; C2 is the default, so assume it.
        }
        int bits;
        try {
            bits = preferredVectorBits();
        } catch (ReflectiveOperationException e) {
            return "the JVM's vector width cannot be read (" + e + ")";
        }
        if (bits < 128) {
            return "this JVM's widest vectors are " + bits + " bits (-XX:MaxVectorSize?), narrower than the 128 the"
                    + " vector kernels need at least";
        }
        return null;
    }

    /**
     * {@code FloatVector.SPECIES_PREFERRED}'s width, read reflectively so that this class links
     * without {@code jdk.incubator.vector} (the caller has checked that the module is there).
     */
    private static int preferredVectorBits() throws ReflectiveOperationException {
        Object species = Class.forName("jdk.incubator.vector.FloatVector").getField("SPECIES_PREFERRED").get(null);
        return (int) Class.forName("jdk.incubator.vector.VectorSpecies").getMethod("vectorBitSize").invoke(species);
    }

    private static KernelProvider loadVector() {
        try {
            return (KernelProvider) Class.forName("org.adjoint.kernels.VectorKernels")
                    .getField("INSTANCE").get(null);
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new UnsupportedOperationException("vector kernels unavailable: cannot load them (" + e + ")", e);
        }
    }
}
