package org.adjoint.cpu;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a main class of the test class path in a JVM of its own: for what one test JVM
 * cannot do to itself, such as running out of a small heap or dying in the middle of a write.
 */
final class ChildJvm {

    /**
     * What the child did.
     *
     * @param exitCode its exit status
     * @param output   its standard output and error, interleaved
     */
    record Result(int exitCode, String output) {
    }

    private ChildJvm() {
    }

    /**
     * Runs {@code mainClass} with the given JVM options and arguments, and waits for it.
     *
     * @param options   JVM options, for example {@code -Xmx64m}
     * @param mainClass the class whose {@code main} runs
     * @param arguments its arguments
     * @return the exit code and output
     */
    static Result run(List<String> options, Class<?> mainClass, String... arguments) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(options);
        command.add("-Dadjoint.cpu.kernels=scalar");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass.getName());
        command.addAll(List.of(arguments));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("child JVM did not exit: " + output);
            }
            return new Result(process.exitValue(), output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
