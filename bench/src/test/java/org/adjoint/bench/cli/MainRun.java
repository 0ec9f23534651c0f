package org.adjoint.bench.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * One run of {@link Main#run} in this JVM.
 *
 * @param exitCode what it returned
 * @param out      what it printed on standard output
 * @param err      what it printed on standard error
 */
record MainRun(int exitCode, String out, String err) {

    /**
     * Runs the command line and captures both streams.
     *
     * @param args the subcommand followed by its options
     * @return the exit code and the output
     */
    static MainRun run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Main.run(args, o, e);
        }
        return new MainRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
