package org.adjoint.bench;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;

import org.adjoint.kernels.KernelProvider;

/**
 * Prints the CPU kernel configuration that Adjoint chooses in this JVM, one {@code key: value}
 * line each, for the header of {@code bench/compare.sh}: the provider, the vector width, the
 * SGEMM register tile, the cache blocking (KC, MC, NC) and the thread count, with the system
 * properties that changed them.
 *
 * <p>Run it with the JVM options of the run it describes, since they change the choice:
 * {@code java --add-modules jdk.incubator.vector [-Dadjoint.cpu.vectorBits=128 ...] -cp
 * bench/target/adjoint.jar org.adjoint.bench.KernelInfo}.
 *
 * <p>The kernels do not yet publish their configuration, so the tile, blocking and threads are
 * read from the kernels' package-private constants by reflection; a value that cannot be read
 * (renamed, or moved into a per-CPU choice) prints as {@code unknown} and the rest still print.
 * When {@code KernelProvider} gains a public description, {@link #lines()} should call it
 * instead: each line is one entry there.
 */
public final class KernelInfo {

    private static final String KERNELS = "org.adjoint.kernels.";
    private static final String UNKNOWN = "unknown";
    private static final String[] PROPERTIES = {
        KernelProvider.PROPERTY, "adjoint.cpu.vectorBits", "adjoint.cpu.tileRows", "adjoint.cpu.threads",
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
        if (provider.name().equals("vector")) {
            Object tile = staticField("VectorKernels", "TILE");
            lines.add("vector bits: " + speciesBits(tile == null ? null : staticField(tile.getClass(), "SPECIES"))
                    + " (preferred on this CPU: " + speciesBits(preferredSpecies()) + ")");
            lines.add("tile: " + call(tile, "rows") + " x " + call(tile, "columns")
                    + (tile == null ? "" : " (" + tile.getClass().getSimpleName() + ")"));
        }
        lines.add("blocking: " + blocking(provider.name().equals("vector") ? "PackedGemm" : "ScalarGemm"));
        Object threads = staticField("Parallel", "THREADS");
        lines.add("threads: " + (threads == null ? UNKNOWN : threads) + " of "
                + Runtime.getRuntime().availableProcessors() + " processors");
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

    /** The SGEMM's cache blocks, e.g. {@code KC 512, MC 64, NC 2048}: those the class has. */
    private static String blocking(String gemm) {
        List<String> blocks = new ArrayList<>();
        for (String block : new String[] {"KC", "MC", "NC"}) {
            Object value = staticField(gemm, block);
            if (value != null) {
                blocks.add(block + " " + value);
            }
        }
        return blocks.isEmpty() ? UNKNOWN : String.join(", ", blocks) + " (" + gemm + ")";
    }

    private static Object staticField(String simpleName, String field) {
        try {
            return staticField(Class.forName(KERNELS + simpleName), field);
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }

    private static Object staticField(Class<?> type, String name) {
        try {
            Field field = type.getDeclaredField(name);
            field.setAccessible(true);
            return field.get(null);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }

    private static String call(Object target, String method) {
        if (target == null) {
            return UNKNOWN;
        }
        try {
            Method m = target.getClass().getDeclaredMethod(method);
            m.setAccessible(true);
            return String.valueOf(m.invoke(target));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return UNKNOWN;
        }
    }

    private static Object preferredSpecies() {
        try {
            return Class.forName("jdk.incubator.vector.FloatVector").getField("SPECIES_PREFERRED").get(null);
        } catch (ReflectiveOperationException | LinkageError e) {
            return null;
        }
    }

    /** The width of a {@code VectorSpecies}, called through the exported interface. */
    private static String speciesBits(Object species) {
        if (species == null) {
            return UNKNOWN;
        }
        try {
            Method bits = Class.forName("jdk.incubator.vector.VectorSpecies").getMethod("vectorBitSize");
            return String.valueOf(bits.invoke(species));
        } catch (ReflectiveOperationException | LinkageError e) {
            return UNKNOWN;
        }
    }
}
