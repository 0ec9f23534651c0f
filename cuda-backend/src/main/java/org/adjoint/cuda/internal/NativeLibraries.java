package org.adjoint.cuda.internal;

import java.io.File;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Loads a CUDA library for the {@code java.lang.foreign} bindings: first by name through the
 * dynamic linker ({@code LD_LIBRARY_PATH}, the ld.so cache), then from the folders where CUDA
 * toolkits install it, since a toolkit's {@code lib64} is often on no search path.
 *
 * <p>Loading and binding native code are restricted methods: the JVM allows them with
 * {@code --enable-native-access=ALL-UNNAMED} (the {@code adjoint} launcher and the test runs
 * pass it) and otherwise warns once.
 */
@SuppressWarnings("restricted") // the point of this class; native access is granted on the command line
public final class NativeLibraries {

    /** System property with extra folders to look in, separated by {@link File#pathSeparator}. */
    public static final String PATH_PROPERTY = "adjoint.cuda.libraryPath";

    private NativeLibraries() {
    }

    /**
     * A loaded library.
     *
     * @param name     the file name asked for
     * @param location where it was found: the name (found by the dynamic linker) or a path
     * @param symbols  its symbols
     * @param companionFailures the companions of its folder that did not load, each with its last
     *                 error (see {@link #loadWithEveryCompanion}); empty for the others
     */
    public record Loaded(String name, String location, SymbolLookup symbols, List<String> companionFailures) {

        /**
         * A library with no companion failures.
         *
         * @param name     the file name asked for
         * @param location where it was found
         * @param symbols  its symbols
         */
        public Loaded(String name, String location, SymbolLookup symbols) {
            this(name, location, symbols, List.of());
        }

        /**
         * A method handle for one of the library's functions.
         *
         * @param symbol     the C name
         * @param descriptor its signature
         * @return the handle
         * @throws IllegalStateException when the library does not export it
         */
        public MethodHandle downcall(String symbol, FunctionDescriptor descriptor) {
            return symbols.find(symbol)
                    .map(address -> Linker.nativeLinker().downcallHandle(address, descriptor))
                    .orElseThrow(() -> new IllegalStateException(location + " has no symbol " + symbol));
        }

        /**
         * A method handle for a function the library may lack (one newer than its oldest supported version).
         *
         * @param symbol     the C name
         * @param descriptor its signature
         * @return the handle, or empty when the library does not export it
         */
        public Optional<MethodHandle> optionalDowncall(String symbol, FunctionDescriptor descriptor) {
            return symbols.find(symbol).map(address -> Linker.nativeLinker().downcallHandle(address, descriptor));
        }
    }

    /**
     * The folders searched after the dynamic linker, in order: {@value #PATH_PROPERTY},
     * {@code $CUDA_HOME} and {@code $CUDA_PATH}, {@code /usr/local/cuda}, each
     * {@code /usr/local/cuda-*} (newest name first), the system's library folders, and last
     * the {@code nvidia/*}{@code /lib} folders of Python environments, where NVIDIA's wheels
     * (the ones PyTorch installs) put cuBLAS and NVRTC on machines with no CUDA toolkit.
     *
     * @return existing folders, without repeats
     */
    public static List<Path> searchDirectories() {
        Set<Path> directories = new LinkedHashSet<>();
        String property = System.getProperty(PATH_PROPERTY);
        if (property != null) {
            for (String entry : property.split(File.pathSeparator)) {
                if (entry.isBlank()) {
                    continue;
                }
                Path folder = Path.of(entry);
                if (!Files.isDirectory(folder)) {
                    // Dropped quietly, another install loaded instead, or "not found" asked for the folder given.
                    throw new IllegalStateException("cuda: -D" + PATH_PROPERTY + "=" + property + " names " + entry
                            + ", which is not a folder");
                }
                directories.add(folder);
            }
        }
        List<Path> toolkits = new ArrayList<>();
        for (String variable : List.of("CUDA_HOME", "CUDA_PATH")) {
            String value = System.getenv(variable);
            if (value != null && !value.isBlank()) {
                toolkits.add(Path.of(value));
            }
        }
        toolkits.add(Path.of("/usr/local/cuda"));
        children(Path.of("/usr/local")).stream()
                .filter(p -> p.getFileName().toString().startsWith("cuda-"))
                .sorted(Comparator.comparing(Path::toString).reversed())
                .forEach(toolkits::add);
        for (Path toolkit : toolkits) {
            directories.add(toolkit.resolve("lib64"));
            directories.add(toolkit.resolve("targets/x86_64-linux/lib"));
            directories.add(toolkit.resolve("lib"));
        }
        directories.add(Path.of("/usr/lib/x86_64-linux-gnu"));
        directories.add(Path.of("/usr/lib64"));
        directories.addAll(pythonWheelDirectories());
        return directories.stream().filter(Files::isDirectory).toList();
    }

    private static List<Path> pythonWheelDirectories() {
        List<Path> libRoots = new ArrayList<>(List.of(Path.of("/usr/local/lib"), Path.of("/usr/lib"),
                Path.of("/opt/conda/lib")));
        for (Path optional : children(Path.of("/opt"))) {
            libRoots.add(optional.resolve(".venv/lib"));
            libRoots.add(optional.resolve("lib"));
        }
        for (Path environment : children(Path.of("/opt/conda/envs"))) {
            libRoots.add(environment.resolve("lib"));
        }
        // The active virtual or conda environment, and pip's per-user installs.
        for (String variable : List.of("VIRTUAL_ENV", "CONDA_PREFIX")) {
            String prefix = System.getenv(variable);
            if (prefix != null && !prefix.isBlank()) {
                libRoots.add(Path.of(prefix, "lib"));
            }
        }
        libRoots.add(Path.of(System.getProperty("user.home"), ".local", "lib"));
        List<Path> found = new ArrayList<>();
        for (Path libRoot : libRoots) {
            for (Path python : children(libRoot)) {
                if (!python.getFileName().toString().startsWith("python3")) {
                    continue;
                }
                for (String packages : List.of("site-packages", "dist-packages")) {
                    // Newest first: nvidia/cu13 sorts after nvidia/cu12 and nvidia/cublas.
                    children(python.resolve(packages).resolve("nvidia")).stream()
                            .sorted(Comparator.comparing(Path::toString).reversed())
                            .map(p -> p.resolve("lib"))
                            .forEach(found::add);
                }
            }
        }
        return found;
    }

    private static void loadCompanions(Path directory, String prefix) {
        if (prefix == null) {
            return;
        }
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : files.filter(f -> f.getFileName().toString().startsWith(prefix)).sorted().toList()) {
                try {
                    SymbolLookup.libraryLookup(file, Arena.global());
                    return;
                } catch (IllegalArgumentException | IllegalCallerException e) {
                    // Another file may load; if none does, loading or using the library says so.
                }
            }
        } catch (IOException | SecurityException e) {
            // Nothing to preload; loading the library itself reports what is missing.
        }
    }

    /** Loads the companions in rounds; returns those that never loaded, each with its last error. */
    private static List<String> loadEveryCompanion(Path directory, Predicate<String> companion) {
        if (companion == null) {
            return List.of();
        }
        List<Path> pending;
        try (Stream<Path> files = Files.list(directory)) {
            pending = new ArrayList<>(files.filter(f -> companion.test(f.getFileName().toString())).sorted().toList());
        } catch (IOException | SecurityException e) {
            return List.of(directory + " could not be listed: " + e);
        }
        Map<Path, String> lastError = new LinkedHashMap<>();
        boolean progress = true;
        while (progress && !pending.isEmpty()) {
            progress = false;
            for (var iterator = pending.iterator(); iterator.hasNext(); ) {
                Path file = iterator.next();
                try {
                    SymbolLookup.libraryLookup(file, Arena.global());
                    iterator.remove();
                    lastError.remove(file);
                    progress = true;
                } catch (IllegalArgumentException | IllegalCallerException e) {
                    // It may need a part not loaded yet: the next round tries again.
                    lastError.put(file, e.getMessage());
                }
            }
        }
        // The library loads its parts itself when it needs them, and fails then: these say why.
        return pending.stream().map(f -> f.getFileName() + " (" + lastError.get(f) + ")").toList();
    }

    /**
     * A companion test for {@link #loadWithEveryCompanion}: the parts of one major version,
     * {@code prefix*.so.major} exactly, so that another version's parts in the same folder (or
     * an unversioned development link) are left alone.
     *
     * @param prefix the parts' file-name prefix, for example {@code libcudnn_}
     * @param major  the version the parts' names end with
     * @return the test
     */
    public static Predicate<String> versionedParts(String prefix, int major) {
        String suffix = ".so." + major;
        return file -> file.startsWith(prefix) && file.endsWith(suffix);
    }

    /** The library at {@code file}, or {@code null} with the error in {@code error[0]}. */
    private static Loaded tryLoad(String name, Path file, String[] error) {
        try {
            return new Loaded(name, file.toString(), SymbolLookup.libraryLookup(file, Arena.global()));
        } catch (IllegalArgumentException | IllegalCallerException e) {
            error[0] = e.getMessage();
            return null;
        }
    }

    private static List<Path> children(Path directory) {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        try (Stream<Path> list = Files.list(directory)) {
            return list.filter(Files::isDirectory).toList();
        } catch (IOException | SecurityException e) {
            return List.of();
        }
    }

    /**
     * Loads the first of {@code names} that loads, for the life of the JVM.
     *
     * @param names       file names in order of preference, for example {@code libcublas.so.13}
     * @param directories folders to look in when the dynamic linker does not find a name
     * @return the library
     * @throws IllegalStateException naming every name and folder tried, when none loads
     */
    public static Loaded load(List<String> names, List<Path> directories) {
        return load(names, directories, name -> null);
    }

    /**
     * Loads the first of {@code names} that loads, for the life of the JVM, with its companions.
     * A library found in one of {@code directories} (on no search path) cannot find the
     * libraries it needs or opens by name beside it; those already loaded are found, so the
     * files of that folder whose names start with the companion prefix are loaded first.
     *
     * @param names       file names in order of preference
     * @param directories folders to look in when the dynamic linker does not find a name
     * @param companion   for a name, the file-name prefix of the libraries to load before it
     *                    from the same folder (for example {@code libcublasLt.so.13}), or {@code null}
     * @return the library
     * @throws IllegalStateException naming every name and folder tried, when none loads
     */
    public static Loaded load(List<String> names, List<Path> directories, Function<String, String> companion) {
        return load(names, directories, companion, null, null);
    }

    /**
     * Loads the first of {@code names} that loads, for the life of the JVM, then every file of
     * its folder whose name the companion test accepts (before the library's first call): for a library split into parts that it
     * opens by name at run time (cuDNN 9's {@code libcudnn.so.9} opens {@code libcudnn_ops.so.9},
     * {@code libcudnn_cnn.so.9}, its engines and so on), which need one another, so the files are
     * loaded in rounds until a round loads none more. The test should accept only the parts of
     * the library's own version: a folder may hold another version's parts too, which would
     * load and then shadow the right ones.
     *
     * @param names       file names in order of preference
     * @param directories folders to look in when the dynamic linker does not find a name
     * @param companion   for a name, the test of the file names to load after it, or {@code null}
     * @return the library, with the companions that did not load named
     * @throws IllegalStateException naming every name and folder tried, when none loads
     */
    public static Loaded loadWithEveryCompanion(List<String> names, List<Path> directories,
                                                Function<String, Predicate<String>> companion) {
        return load(names, directories, null, companion, loaded -> null);
    }

    /**
     * Like {@link #loadWithEveryCompanion(List, List, Function)}, but each library found is first
     * loaded alone and asked {@code rejection} whether it may be used; one that may not is passed
     * over for the next place before any of its companions is loaded (a folder's parts would
     * shadow those of a later folder, since the library opens them by name).
     *
     * @param names       file names in order of preference
     * @param directories folders to look in when the dynamic linker does not find a name
     * @param companion   for a name, the test of the file names to load after it, or {@code null}
     * @param rejection   for a loaded library, why it must not be used, or {@code null} when it may
     * @return the library, with the companions that did not load named
     * @throws IllegalStateException naming every name and folder tried, when none loads; when every
     *                               one found was rejected, the reasons (just the reason when one was)
     */
    public static Loaded loadWithEveryCompanion(List<String> names, List<Path> directories,
                                                Function<String, Predicate<String>> companion,
                                                Function<Loaded, String> rejection) {
        return load(names, directories, null, companion, rejection);
    }

    private static Loaded load(List<String> names, List<Path> directories, Function<String, String> companion,
                               Function<String, Predicate<String>> everyCompanion, Function<Loaded, String> rejection) {
        List<String> failures = new ArrayList<>();
        Map<String, String> rejections = new LinkedHashMap<>();
        for (String name : names) {
            try {
                Loaded loaded = new Loaded(name, name, SymbolLookup.libraryLookup(name, Arena.global()));
                String reason = rejection == null ? null : rejection.apply(loaded);
                if (reason == null) {
                    return loaded;
                }
                rejections.putIfAbsent(reason, name + " (found by the dynamic linker)");
            } catch (IllegalArgumentException notOnSearchPath) {
                // Look in the toolkit folders next.
            }
            for (Path directory : directories) {
                Path candidate = directory.resolve(name);
                if (!Files.isRegularFile(candidate)) {
                    continue;
                }
                if (everyCompanion == null) {
                    loadCompanions(directory, companion.apply(name));
                }
                List<String> companionFailures = null;
                String[] error = new String[1];
                Loaded loaded = tryLoad(name, candidate, error);
                if (loaded == null && everyCompanion != null) {
                    // It needs its parts to load at all (a link-time need): they come first, and it is checked after.
                    companionFailures = loadEveryCompanion(directory, everyCompanion.apply(name));
                    loaded = tryLoad(name, candidate, error);
                }
                if (loaded == null) {
                    failures.add(candidate + " exists but did not load (" + error[0] + ")");
                    continue;
                }
                String reason = rejection == null ? null : rejection.apply(loaded);
                if (reason != null) {
                    rejections.putIfAbsent(reason, candidate.toString());
                    continue;
                }
                if (everyCompanion != null) {
                    if (companionFailures == null) {
                        companionFailures = loadEveryCompanion(directory, everyCompanion.apply(name));
                    }
                    loaded = new Loaded(name, loaded.location(), loaded.symbols(), companionFailures);
                }
                return loaded;
            }
        }
        if (!rejections.isEmpty()) {
            if (rejections.size() == 1 && failures.isEmpty()) {
                throw new IllegalStateException(rejections.keySet().iterator().next());
            }
            List<String> reasons = new ArrayList<>();
            rejections.forEach((reason, where) -> reasons.add(where + ": " + reason));
            reasons.addAll(failures);
            throw new IllegalStateException("no " + String.join(" or ", names) + " found can be used: "
                    + String.join("; ", reasons));
        }
        String ldLibraryPath = System.getenv("LD_LIBRARY_PATH");
        throw new IllegalStateException(String.join(" or ", names) + " could not be loaded: not found by the dynamic linker"
                + " (LD_LIBRARY_PATH=" + (ldLibraryPath == null ? "(unset)" : ldLibraryPath) + ") nor in "
                + directories.stream().map(Path::toString).toList()
                + (failures.isEmpty() ? "" : "; " + String.join("; ", failures))
                + "; add its folder to LD_LIBRARY_PATH or to -D" + PATH_PROPERTY);
    }
}
