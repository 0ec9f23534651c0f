package org.adjoint.kernels.cuda;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the compilers and programs that the CUDA source tests need ({@link RequiredTool} says whether the machine has them). */
final class ExternalTool {

    /** What a finished program left: its exit status and its merged stdout and stderr. */
    record Result(int exitCode, String output) {
    }

    private ExternalTool() {
    }

    /**
     * Runs a program in a directory, failing the test when it outlives the timeout.
     *
     * @param directory working directory (also where its output is collected)
     * @param input     file given as its stdin, or {@code null} for none
     * @param timeout   how long it may run
     * @param command   the program and its arguments
     * @return its exit status and output
     * @throws IOException when it cannot be started or its output read
     */
    static Result run(Path directory, Path input, Duration timeout, List<String> command) throws IOException {
        Path output = Files.createTempFile(directory, "output", ".txt");
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(directory.toFile())
                .redirectErrorStream(true)
                .redirectOutput(output.toFile());
        if (input != null) {
            builder.redirectInput(input.toFile());
        }
        Process process = builder.start();
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                fail(String.join(" ", command) + " did not finish within " + timeout.toSeconds() + " s; output so far:\n"
                        + Files.readString(output, StandardCharsets.UTF_8));
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            fail("interrupted while waiting for " + String.join(" ", command), e);
        }
        return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
    }
}
