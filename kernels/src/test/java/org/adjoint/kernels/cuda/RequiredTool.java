package org.adjoint.kernels.cuda;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The compilers that some suites need (the fake CUDA driver, the kernel emulator, the PTX
 * compile) and what to do when one is missing. On a machine with only a JDK those suites
 * skip, with the reason; CI sets {@value #VARIABLE} (for example {@code gcc,g++,nvcc}) and a
 * missing tool it names fails the suite instead, so that CI cannot quietly test less. An
 * environment variable rather than a system property because surefire's forked JVMs inherit
 * the environment, and Maven's own {@code -D} options do not reach them.
 */
public final class RequiredTool {

    /** The environment variable that lists, comma-separated, the tools whose absence is a failure. */
    public static final String VARIABLE = "ADJOINT_REQUIRE_TOOLS";

    /** Every tool a suite asks for, with how to install it. */
    static final Map<String, String> INSTALL = Map.of(
            "gcc", "install Debian's gcc (apt-get install -y gcc)",
            "g++", "install Debian's g++ (apt-get install -y g++)",
            "nvcc", "install the CUDA toolkit's nvcc (NVIDIA's cuda-nvcc package, or the toolkit from"
                    + " developer.nvidia.com) and put the folder that holds nvcc on the PATH");

    private RequiredTool() {
    }

    /**
     * Lets the calling test go on only where {@code tool} is on the PATH: skips it otherwise,
     * or fails it when {@value #VARIABLE} names the tool.
     *
     * @param tool  one of {@code gcc}, {@code g++} and {@code nvcc}
     * @param suite what needs it, for the message (for example "the fake CUDA driver")
     */
    public static void assumeOnPath(String tool, String suite) {
        assumeOnPath(tool, suite, System.getenv("PATH"), System.getenv(VARIABLE));
    }

    /**
     * {@link #assumeOnPath(String, String)} with the PATH and the requirement given (tests use made-up ones).
     *
     * @param tool     the program
     * @param suite    what needs it
     * @param path     the search path, or {@code null}
     * @param required the value of {@value #VARIABLE}, or {@code null}
     */
    static void assumeOnPath(String tool, String suite, String path, String required) {
        String install = INSTALL.get(tool);
        if (install == null) {
            throw new IllegalArgumentException("no suite uses the tool '" + tool + "' (known: " + INSTALL.keySet() + ")");
        }
        boolean isRequired = required(required).contains(tool);
        if (onPath(tool, path)) {
            return;
        }
        String missing = tool + " not found on the PATH (" + path + "), so " + suite + " cannot run: " + install;
        if (isRequired) {
            fail(missing + " (" + VARIABLE + "=" + required + " requires it)");
        }
        assumeTrue(false, missing + "; skipped");
    }

    /**
     * The tools that {@value #VARIABLE} names; a name that no suite uses is an error, since a
     * misspelt requirement would require nothing.
     *
     * @param value the variable's value, or {@code null}
     * @return the tool names
     */
    static Set<String> required(String value) {
        if (value == null || value.isBlank()) {
            return Set.of();
        }
        Set<String> tools = Arrays.stream(value.split(",")).map(String::strip).filter(s -> !s.isEmpty())
                .collect(Collectors.toSet());
        List<String> unknown = tools.stream().filter(t -> !INSTALL.containsKey(t)).sorted().toList();
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(VARIABLE + "=" + value + " names " + unknown
                    + ", which no suite uses (known: " + INSTALL.keySet().stream().sorted().toList() + ")");
        }
        return tools;
    }

    /**
     * Whether an executable of this name is in a directory of the search path.
     *
     * @param name the program
     * @param path the search path, or {@code null}
     * @return whether it can be run by name
     */
    static boolean onPath(String name, String path) {
        if (path == null) {
            return false;
        }
        for (String directory : path.split(File.pathSeparator)) {
            if (!directory.isEmpty() && Files.isExecutable(Path.of(directory, name))) {
                return true;
            }
        }
        return false;
    }
}
