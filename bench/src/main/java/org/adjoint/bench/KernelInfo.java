package org.adjoint.bench;

import java.util.ArrayList;
import java.util.List;

import org.adjoint.kernels.KernelProvider;

/**
 * Prints the CPU kernel configuration that Adjoint chooses in this JVM, one {@code key: value}
 * line each, for the header of {@code bench/compare.sh}: the provider and what it chose (vector
 * width, SGEMM register tile, cache blocking and the caches it was derived from, threads, from
 * {@link KernelProvider#configuration()}), the CPU's preferred vector width, and the system
 * properties that changed the choice.
 *
 * <p>Run it with the JVM options of the run it describes, since they change the choice:
 * {@code java --add-modules jdk.incubator.vector [-Dadjoint.cpu.vectorBits=128 ...] -cp
 * bench/target/adjoint.jar org.adjoint.bench.KernelInfo}.
 */
public final class KernelInfo {

    private static final String[] PROPERTIES = {
        KernelProvider.PROPERTY, "adjoint.cpu.vectorBits", "adjoint.cpu.tileRows", "adjoint.cpu.threads",
        "adjoint.cpu.gemm.kc", "adjoint.cpu.gemm.mc", "adjoint.cpu.gemm.nc",
    };

    private KernelInfo() {
    }

    /**
     * Prints the configuration.
     *
     * @param args none
     */
    public static void main(String[] args) {
        if (args.length != 0) {
            throw new IllegalArgumentException("KernelInfo: takes no arguments, got " + List.of(args));
        }
        lines().forEach(System.out::println);
    }

    /**
     * The configuration, as {@code key: value} lines.
     *
     * @return the lines, provider first
     */
    public static List<String> lines() {
        List<String> lines = new ArrayList<>();
        KernelProvider provider = KernelProvider.lookup();
        lines.add("provider: " + provider.name());
        lines.add("chosen: " + provider.description());
        lines.add("preferred vector bits on this CPU: " + preferredBits());
        List<String> set = new ArrayList<>();
        for (String property : PROPERTIES) {
            String value = System.getProperty(property);
            if (value != null) {
                set.add("-D" + property + "=" + value);
            }
        }
        lines.add("set by: " + (set.isEmpty() ? "defaults" : String.join(" ", set)));
        return lines;
    }

    /** The width of {@code FloatVector.SPECIES_PREFERRED}, or why it cannot be read. */
    private static String preferredBits() {
        try {
            Object species = Class.forName("jdk.incubator.vector.FloatVector").getField("SPECIES_PREFERRED").get(null);
            return String.valueOf(Class.forName("jdk.incubator.vector.VectorSpecies").getMethod("vectorBitSize").invoke(species));
        } catch (ReflectiveOperationException | LinkageError e) {
            return "not available (" + e + ")";
        }
    }
}
