package org.adjoint.bench.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

import org.adjoint.backend.OutOfMemoryException;

/**
 * Entry point of the {@code adjoint} command: reads the subcommand and dispatches to it.
 *
 * <p>Exit codes: 0 on success, 1 when the command failed while running, 2 when the command
 * line is wrong (unknown subcommand or option, bad value), with the offending word and the
 * usage printed on standard error, 3 when it ran out of memory, with one line on standard
 * error: what was asked, what the Java heap allows, and how to give it more
 * ({@code ADJOINT_JAVA_OPTS=-Xmx<size>}, which the {@code adjoint} launcher passes to the JVM).
 */
public final class Main {

    /** Exit code of a command that ran to the end. */
    public static final int OK = 0;
    /** Exit code of a command that failed while running. */
    public static final int FAILED = 1;
    /** Exit code of a command line that could not be understood. */
    public static final int USAGE = 2;
    /** Exit code of a command that ran out of memory (the Java heap, or a device's). */
    public static final int OUT_OF_MEMORY = 3;

    static final String USAGE_TEXT = """
            usage: adjoint <command> [options]

            commands:
              train         train an MLP classifier on the bundled digits or Fashion-MNIST
              lm            train a character-level GPT on the bundled Shakespeare and
                            write a sample
              checkpoint    time one training step of a tanh chain under a checkpoint policy
                            against storing everything: memory, forward calls, step time
              help          print this help

            Run 'adjoint <command> --help' for the options of a command.
            JVM options (such as a larger heap) go in ADJOINT_JAVA_OPTS, for example
            ADJOINT_JAVA_OPTS=-Xmx8g ./adjoint train; JAVA_OPTS is passed too, before it.
            """;

    private Main() {
    }

    /**
     * Runs the command line and exits the JVM with its exit code.
     *
     * @param args the subcommand followed by its options
     */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs the command line in this JVM (tests call this instead of {@link #main(String[])}).
     *
     * @param args the subcommand followed by its options
     * @param out  where results go
     * @param err  where errors and usage for a wrong command line go
     * @return the exit code: {@link #OK}, {@link #FAILED}, {@link #USAGE} or {@link #OUT_OF_MEMORY}
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.println("adjoint: missing command");
            err.print(USAGE_TEXT);
            return USAGE;
        }
        String command = args[0];
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        try {
            return dispatch(command, rest, out, err);
        } catch (OutOfMemoryException e) {
            err.println(OutOfMemory.line("adjoint " + command, e));
            return OUT_OF_MEMORY;
        } catch (OutOfMemoryError e) {
            // An allocation no check caught; by now its frames are gone and their memory is garbage.
            err.println(OutOfMemory.line("adjoint " + command, e));
            return OUT_OF_MEMORY;
        }
    }

    private static int dispatch(String command, List<String> rest, PrintStream out, PrintStream err) {
        return switch (command) {
            case "help", "--help", "-h" -> {
                out.print(USAGE_TEXT);
                yield OK;
            }
            case "train" -> TrainCommand.run(rest, out, err);
            case "lm" -> LmCommand.run(rest, out, err);
            case "checkpoint" -> CheckpointCommand.run(rest, out, err);
            default -> {
                err.println("adjoint: unknown command '" + command + "'");
                err.print(USAGE_TEXT);
                yield USAGE;
            }
        };
    }
}
