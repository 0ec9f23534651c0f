package org.adjoint.bench.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.adjoint.backend.Backend;
import org.adjoint.backend.Backends;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Running out of memory ends a command with one line on standard error (what was asked, what
 * the heap allows, how to give it more) and exit code {@link Main#OUT_OF_MEMORY}; the
 * {@code adjoint} launcher passes {@code JAVA_OPTS} and then {@code ADJOINT_JAVA_OPTS} to the JVM.
 */
class OutOfMemoryCommandTest {

    private static final String INCUBATOR_WARNING = "WARNING: Using incubator modules: jdk.incubator.vector";

    @TempDir
    Path dir;

    /** The command of the issue, scaled to a 64 MiB heap: a 4096 × 4096 weight is 64 MiB on its own. */
    @Test
    void aCommandThatNeedsMoreHeapPrintsOneLineAndExitsWithThree() throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m", "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "checkpoint", "--layers", "2", "--width", "4096", "--batch", "4096",
                "--warmup", "0", "--runs", "1", "--backend", "cpu"));
        Process process = new ProcessBuilder(command).redirectOutput(dir.resolve("out").toFile())
                .redirectError(dir.resolve("err").toFile()).start();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the child JVM did not exit");
        List<String> err = Files.readAllLines(dir.resolve("err")).stream()
                .filter(line -> !line.equals(INCUBATOR_WARNING)).toList();
        String all = String.join("\n", err) + "\nstdout: " + Files.readString(dir.resolve("out"));
        assertEquals(Main.OUT_OF_MEMORY, process.exitValue(), all);
        assertEquals(1, err.size(), all);
        String line = err.getFirst();
        assertTrue(line.matches("adjoint checkpoint: out of memory: \\S.* asked for \\d+\\.\\d MiB; the Java heap "
                + "allows at most \\d+\\.\\d MiB, \\d+\\.\\d MiB in use\\. Give it more with "
                + "ADJOINT_JAVA_OPTS=-Xmx<size> \\(this request alone needs at least -Xmx(\\d+)m\\), or ask for less"),
                line);
        // 64 MiB asked, plus what was in use: more than the 64 MiB the child had.
        long suggested = Long.parseLong(line.replaceAll(".*-Xmx(\\d+)m\\).*", "$1"));
        assertTrue(suggested > 64 && suggested < 1024, line);
    }

    /** The parameters are written before the sample is drawn: a sample too long for the heap does not lose them. */
    @Test
    void aSampleThatRunsOutOfMemoryLeavesTheParametersSaved() throws IOException, InterruptedException {
        Path saved = dir.resolve("gpt.safetensors");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "lm", "--embed", "16", "--heads", "2", "--context", "16", "--batch", "4",
                "--iters", "2", "--eval-interval", "1", "--eval-batches", "1", "--backend", "cpu", "--quiet",
                "--save", saved.toString(), "--sample", "100000000"));
        Process process = new ProcessBuilder(command).redirectOutput(dir.resolve("out").toFile())
                .redirectError(dir.resolve("err").toFile()).start();
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the child JVM did not exit");
        String err = Files.readString(dir.resolve("err"));
        assertEquals(Main.OUT_OF_MEMORY, process.exitValue(), err);
        assertTrue(Files.size(saved) > 1000, "the parameters were saved before the sample: " + err);
    }

    /** An {@link OutOfMemoryError} that no check turned into an exception is reported the same way. */
    @Test
    void aRawOutOfMemoryErrorIsOneLineToo() {
        Backend previous = Backends.current();
        Backend failing = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (self, method, arguments) -> {
                    if (method.getName().equals("allocate")) {
                        throw new OutOfMemoryError("Java heap space");
                    }
                    try {
                        return method.invoke(previous, arguments);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        MainRun run;
        try {
            Backends.use(failing);
            run = MainRun.run("checkpoint", "--layers", "2", "--width", "8", "--batch", "4", "--warmup", "0",
                    "--runs", "1");
        } finally {
            Backends.use(previous);
        }
        assertEquals(Main.OUT_OF_MEMORY, run.exitCode(), run.err());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().startsWith("adjoint checkpoint: out of memory (Java heap space); the Java heap allows at "
                + "most "), run.err());
        assertTrue(run.err().contains(" in use now. Give it more with ADJOINT_JAVA_OPTS=-Xmx<size> (for example -Xmx"),
                run.err());
    }

    /**
     * The launcher, copied beside a stand-in {@code java} that prints its arguments: the options
     * of both variables arrive split at whitespace, {@code JAVA_OPTS} first, before {@code -jar},
     * untouched by globbing, after the JIT's thresholds for the Vector API's own methods
     * ({@code ADJOINT_JIT_SCALING}, 10 unless set or empty; 1 passes none, anything but a
     * positive number is refused before the JVM starts); the JVM's exit code is the launcher's.
     */
    @Test
    void theLauncherPassesJavaOptsThenAdjointJavaOpts() throws IOException, InterruptedException {
        Path bash = Path.of("/bin/bash");
        assumeTrue(Files.isExecutable(bash), "the launcher is a bash script");
        Path root = dir.resolve("repository");
        Files.createDirectories(root.resolve("bench/target"));
        Path launcher = Files.copy(repositoryRoot().resolve("adjoint"), root.resolve("adjoint"),
                StandardCopyOption.COPY_ATTRIBUTES);
        // Fresh and with no sources or pom.xml beside it, the jar is not rebuilt.
        Files.createFile(root.resolve("bench/target/adjoint.jar"));
        Path java = Files.createDirectories(dir.resolve("jdk/bin")).resolve("java");
        Files.writeString(java, """
                #!/bin/sh
                if [ "$1" = "-version" ]; then echo 'openjdk version "25.0.1" 2025-10-21' >&2; exit 0; fi
                for argument in "$@"; do printf '%s\\n' "$argument"; done
                exit 3
                """);
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createFile(root.resolve("glob-bait"));

        ProcessBuilder builder = new ProcessBuilder(bash.toString(), launcher.toString(), "train", "--epochs", "1")
                .directory(root.toFile()).redirectErrorStream(true);
        Map<String, String> environment = builder.environment();
        environment.put("JAVA_HOME", dir.resolve("jdk").toString());
        environment.put("JAVA_OPTS", "  -Dfrom=java_opts\t-Xmx32m ");
        environment.put("ADJOINT_JAVA_OPTS", "-Xmx64m\n-Dpattern=* ");
        environment.remove("ADJOINT_JIT_SCALING");
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "the launcher did not exit: " + output);
        assertEquals(3, process.exitValue(), output);
        String jar = root.resolve("bench/target/adjoint.jar").toRealPath().toString();
        List<String> modules = List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED");
        List<String> tail = List.of("-jar", jar, "train", "--epochs", "1");
        assertEquals(concat(modules, jitScaling("10.0"), List.of("-Dfrom=java_opts", "-Xmx32m", "-Xmx64m",
                "-Dpattern=*"), tail), output.lines().toList());

        environment.remove("JAVA_OPTS");
        environment.remove("ADJOINT_JAVA_OPTS");
        assertEquals(concat(modules, jitScaling("10.0"), tail), run(builder, 3));
        environment.put("ADJOINT_JIT_SCALING", "2.5");
        assertEquals(concat(modules, jitScaling("2.5"), tail), run(builder, 3));
        environment.put("ADJOINT_JIT_SCALING", "010");
        assertEquals(concat(modules, jitScaling("010.0"), tail), run(builder, 3));
        for (String one : new String[] {"1", "1.0", "01.00"}) {
            environment.put("ADJOINT_JIT_SCALING", one);
            assertEquals(concat(modules, tail), run(builder, 3), one);
        }
        for (String wrong : new String[] {"ten", "0", "0.0", "-2", "10.", ".5", ""}) {
            environment.put("ADJOINT_JIT_SCALING", wrong);
            List<String> expected = wrong.isEmpty() ? concat(modules, jitScaling("10.0"), tail)
                    : List.of("adjoint: ADJOINT_JIT_SCALING must be a positive number such as 10 or 1.5, got '" + wrong
                            + "'");
            assertEquals(expected, run(builder, wrong.isEmpty() ? 3 : 1), wrong);
        }
    }

    /** The launcher's options for the JIT's thresholds of the Vector API's methods, times {@code scaling}. */
    private static List<String> jitScaling(String scaling) {
        return List.of("-XX:CompileCommand=quiet",
                "-XX:CompileCommand=CompileThresholdScaling,jdk.incubator.vector.*::*," + scaling,
                "-XX:CompileCommand=CompileThresholdScaling,jdk.internal.vm.vector.*::*," + scaling);
    }

    @SafeVarargs
    private static List<String> concat(List<String>... parts) {
        return Arrays.stream(parts).flatMap(List::stream).toList();
    }

    /** Runs the launcher, expects {@code exitCode}, and returns its output's lines. */
    private static List<String> run(ProcessBuilder builder, int exitCode) throws IOException, InterruptedException {
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "the launcher did not exit: " + output);
        assertEquals(exitCode, process.exitValue(), output);
        return output.lines().toList();
    }

    private static Path repositoryRoot() {
        for (Path at = Path.of("").toAbsolutePath(); at != null; at = at.getParent()) {
            if (Files.isRegularFile(at.resolve("adjoint")) && Files.isRegularFile(at.resolve("mvnw"))) {
                return at;
            }
        }
        throw new AssertionError("no adjoint launcher above " + Path.of("").toAbsolutePath());
    }
}
