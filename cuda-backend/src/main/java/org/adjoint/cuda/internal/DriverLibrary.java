package org.adjoint.cuda.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Finds the CUDA driver library {@code libcuda.so.1} without loading it. Loading JCuda's
 * natives on a machine without the driver fails anyway, but only after a native-access
 * warning and with a page of nested stack traces; looking first keeps a CPU-only JVM quiet
 * and gives a one-line reason.
 */
public final class DriverLibrary {

    /** The file name the dynamic linker looks for. */
    public static final String NAME = "libcuda.so.1";

    /** Folders where drivers install it (distribution packages, the NVIDIA container runtime, WSL, CUDA's forward-compatibility package). */
    static final List<Path> STANDARD_DIRECTORIES = List.of(
            Path.of("/usr/lib/x86_64-linux-gnu"), Path.of("/lib/x86_64-linux-gnu"), Path.of("/usr/lib64"),
            Path.of("/lib64"), Path.of("/usr/lib"), Path.of("/lib"), Path.of("/usr/local/nvidia/lib64"),
            Path.of("/usr/local/nvidia/lib"), Path.of("/usr/lib/wsl/lib"), Path.of("/usr/local/cuda/compat"));

    /** The dynamic linker's cache of the folders in {@code /etc/ld.so.conf}. */
    static final Path LINKER_CACHE = Path.of("/etc/ld.so.cache");

    private DriverLibrary() {
    }

    /**
     * Where the dynamic linker would find {@code libcuda.so.1} on this machine.
     *
     * @return a path, or {@code "the ld.so cache"}; empty when it is nowhere
     */
    public static Optional<String> locate() {
        return locate(System.getenv("LD_LIBRARY_PATH"), STANDARD_DIRECTORIES, LINKER_CACHE);
    }

    /**
     * {@link #locate()} over given places (tests use temporary folders).
     *
     * @param ldLibraryPath the value of {@code LD_LIBRARY_PATH}, or {@code null}
     * @param directories   folders to look in after it
     * @param linkerCache   the dynamic linker's cache file, looked in last
     * @return a path or {@code "the ld.so cache"}; empty when none has the library
     */
    static Optional<String> locate(String ldLibraryPath, List<Path> directories, Path linkerCache) {
        for (Path directory : searchOrder(ldLibraryPath, directories)) {
            Path candidate = directory.resolve(NAME);
            if (Files.exists(candidate)) {
                return Optional.of(candidate.toString());
            }
        }
        return inLinkerCache(linkerCache) ? Optional.of("the ld.so cache") : Optional.empty();
    }

    /**
     * The folders {@link #locate()} looks in, in order.
     *
     * @param ldLibraryPath the value of {@code LD_LIBRARY_PATH}, or {@code null}
     * @param directories   folders after it
     * @return the folders
     */
    static List<Path> searchOrder(String ldLibraryPath, List<Path> directories) {
        List<Path> order = new ArrayList<>();
        if (ldLibraryPath != null) {
            Arrays.stream(ldLibraryPath.split(":")).filter(s -> !s.isBlank()).map(Path::of).forEach(order::add);
        }
        order.addAll(directories);
        return order;
    }

    private static boolean inLinkerCache(Path cache) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(cache);
        } catch (IOException | SecurityException e) {
            return false;
        }
        byte[] needle = (NAME + '\0').getBytes(StandardCharsets.US_ASCII);
        outer:
        for (int i = 0; i + needle.length <= bytes.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (bytes[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /**
     * The reason the backend gives when {@link #locate()} is empty.
     *
     * @return one sentence naming where it looked
     */
    public static String notFoundReason() {
        String ldLibraryPath = System.getenv("LD_LIBRARY_PATH");
        return "no CUDA driver: " + NAME + " was not found (looked in LD_LIBRARY_PATH="
                + (ldLibraryPath == null ? "(unset)" : ldLibraryPath) + ", " + LINKER_CACHE + " and "
                + STANDARD_DIRECTORIES.stream().map(Path::toString).toList()
                + "); install the NVIDIA driver, or add the folder that holds " + NAME + " to LD_LIBRARY_PATH";
    }
}
