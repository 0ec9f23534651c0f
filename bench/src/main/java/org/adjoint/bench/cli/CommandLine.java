package org.adjoint.bench.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

import org.adjoint.backend.Backends;

/**
 * What the subcommands share about their command line: {@link #run} turns help, command-line
 * errors and failures into output and exit codes, and an instance reads the options one at a
 * time, {@code --name value} or {@code --name=value}, with checks whose messages name the
 * option and the value.
 */
final class CommandLine {

    private final List<String> args;
    private final Set<String> flags;
    private final Set<String> valued;
    private int next;
    private String name;
    private String value;

    /**
     * A reader of the options after the subcommand.
     *
     * @param args   the options after the subcommand
     * @param flags  options that stand alone, such as {@code --json}
     * @param valued options that take a value
     */
    CommandLine(List<String> args, Set<String> flags, Set<String> valued) {
        this.args = args;
        this.flags = flags;
        this.valued = valued;
    }

    /**
     * Runs a subcommand: prints the usage on {@code out} when help is asked for, else parses
     * the options, selects the backend they name and does the work.
     *
     * @param <O>     the subcommand's options
     * @param <R>     what its work returns
     * @param command the subcommand's name, which prefixes every error message
     * @param usage   the subcommand's usage text
     * @param args    the options after the subcommand
     * @param out     where the help and the results go
     * @param err     where errors go
     * @param parse   reads the options, throwing {@link UsageException} when it cannot
     * @param backend the backend the options name, or {@code null} for automatic selection
     * @param work    does the work on the selected backend
     * @param report  prints what the work returned; it runs after the failure handling, so
     *                that a bug in printing is not passed off as a failure of the work
     * @return the exit code: {@link Main#OK}; {@link Main#USAGE} when the command line is
     *         wrong, with the message and the usage on {@code err}, or names a backend that is
     *         not installed or cannot run here, with the reason, or when the work throws
     *         {@link UsageException} (a value only it can judge); {@link Main#FAILED} when the
     *         work threw {@link IllegalStateException}, {@link IllegalArgumentException} or
     *         {@link java.io.UncheckedIOException}, with the message on {@code err}
     */
    static <O, R> int run(String command, String usage, List<String> args, PrintStream out, PrintStream err,
                          Function<List<String>, O> parse, Function<O, String> backend, Function<O, R> work,
                          Consumer<R> report) {
        O options;
        try {
            options = parse.apply(args);
        } catch (HelpRequested e) {
            out.print(usage);
            return Main.OK;
        } catch (UsageException e) {
            err.println("adjoint " + command + ": " + e.getMessage());
            err.print(usage);
            return Main.USAGE;
        }
        String name = backend.apply(options);
        if (name != null) {
            try {
                Backends.use(name);
            } catch (IllegalStateException e) {
                // Asking for a backend this machine cannot run is a usage error, like a bad value.
                err.println("adjoint " + command + ": " + e.getMessage());
                return Main.USAGE;
            }
        }
        R result;
        try {
            result = work.apply(options);
        } catch (UsageException e) {
            // A value that only the work can judge (a context longer than the data).
            err.println("adjoint " + command + ": " + e.getMessage());
            err.print(usage);
            return Main.USAGE;
        } catch (IllegalStateException | IllegalArgumentException | java.io.UncheckedIOException e) {
            err.println("adjoint " + command + ": " + describe(e));
            return Main.FAILED;
        }
        report.accept(result);
        return Main.OK;
    }

    /**
     * A failure's message for the user: the message (the exception's class where it has
     * none), then each exception suppressed while handling it, such as a temporary file that
     * could not be deleted after a failed save.
     *
     * @param e the failure
     * @return one line, or one line per suppressed exception more
     */
    static String describe(Throwable e) {
        StringBuilder text = new StringBuilder(e.getMessage() != null ? e.getMessage() : e.toString());
        for (Throwable also : e.getSuppressed()) {
            text.append(System.lineSeparator()).append("  also: ")
                    .append(also.getMessage() != null ? also.getMessage() : also.toString());
        }
        return text.toString();
    }

    /**
     * Checks, before any work, that a file can be written where an option says: not a folder,
     * in a folder that exists (or, where {@code createsFolders}, that the write will create)
     * and can be written to; so that a typing error costs nothing rather than a whole run.
     *
     * @param option         the option that names the file
     * @param file           the file, or {@code null} when not given
     * @param createsFolders whether the writer creates missing folders ({@code --plot} does)
     * @throws UsageException naming the option, the file and what is wrong
     */
    static void checkWritable(String option, Path file, boolean createsFolders) {
        if (file == null) {
            return;
        }
        if (file.toString().isEmpty() || Files.isDirectory(file)) {
            throw new UsageException("option " + option + " '" + file + "' is a folder; it needs a file name");
        }
        Path folder = file.toAbsolutePath().getParent();
        if (folder == null) {
            return;
        }
        // Where folders are created, what must be writable is the nearest one that exists.
        Path existing = folder;
        while (createsFolders && existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null || !Files.exists(existing)) {
            throw new UsageException("option " + option + " " + file + ": the folder " + folder + " does not exist");
        }
        if (!Files.isDirectory(existing)) {
            throw new UsageException("option " + option + " " + file + ": " + existing + " is not a folder");
        }
        if (!Files.isWritable(existing)) {
            throw new UsageException("option " + option + " " + file + ": the folder " + existing
                    + " cannot be written to");
        }
    }

    /**
     * Checks, before any work, that a file to be read exists.
     *
     * @param option the option that names the file
     * @param file   the file, or {@code null} when not given
     * @throws UsageException naming the option and the file
     */
    static void checkReadable(String option, Path file) {
        if (file != null && !Files.isRegularFile(file)) {
            throw new UsageException("option " + option + " " + file + ": no such file");
        }
    }

    /**
     * Checks, before any work, that the plot is not written over the parameters a run saves or
     * loads: the plot is written last and would replace them ({@code --save} may name the file
     * {@code --load} read, to go on from it).
     *
     * @param plot the {@code --plot} file, or {@code null}
     * @param save the {@code --save} file, or {@code null}
     * @param load the {@code --load} file, or {@code null}
     * @throws UsageException naming both options and the file
     */
    static void checkPlotApart(Path plot, Path save, Path load) {
        checkApart(plot, "--save", save);
        checkApart(plot, "--load", load);
    }

    private static void checkApart(Path plot, String option, Path file) {
        if (plot != null && file != null && sameFile(plot, file)) {
            throw new UsageException("options --plot and " + option + " name the same file, " + plot
                    + ": the plot would replace the parameters");
        }
    }

    private static boolean sameFile(Path a, Path b) {
        Path first = a.toAbsolutePath().normalize();
        Path second = b.toAbsolutePath().normalize();
        if (first.equals(second)) {
            return true;
        }
        try {
            // Another spelling of one file: a link to it, or, for a file not written yet, one
            // name in two spellings of its folder (a link to the folder).
            if (Files.exists(first) && Files.exists(second)) {
                return Files.isSameFile(first, second);
            }
            Path firstFolder = first.getParent();
            Path secondFolder = second.getParent();
            return first.getFileName().equals(second.getFileName()) && firstFolder != null && secondFolder != null
                    && Files.isDirectory(firstFolder) && Files.isDirectory(secondFolder)
                    && Files.isSameFile(firstFolder, secondFolder);
        } catch (IOException e) {
            throw new UsageException("options --plot " + a + " and " + b + ": cannot tell whether they are one file: "
                    + e.getMessage());
        }
    }

    /**
     * The failure of a run whose loss stopped being finite, after writing {@code --plot} with
     * what the run finished, which is what shows how it went; a plot that cannot be written is
     * suppressed under the failure.
     *
     * @param message  what happened and what to do
     * @param plot     the {@code --plot} file, or {@code null}
     * @param finished what the plot holds ("the 2 finished epochs"), or {@code null} when nothing
     * @param write    writes the plot
     * @return the failure to throw
     */
    static IllegalStateException diverged(String message, Path plot, String finished, Runnable write) {
        RuntimeException plotFailure = null;
        if (plot != null && finished != null) {
            try {
                write.run();
                message += "; the curves of " + finished + " are in " + plot;
            } catch (RuntimeException e) {
                plotFailure = e;
            }
        }
        IllegalStateException failure = new IllegalStateException(message);
        if (plotFailure != null) {
            failure.addSuppressed(plotFailure);
        }
        return failure;
    }

    /**
     * Runs each of a finished run's writes ({@code --save}, then {@code --plot}) even when an
     * earlier one fails, so that a full disk that fails one still leaves the other; the first
     * failure is thrown, the later ones suppressed under it.
     *
     * @param writes the writes, in order
     */
    static void writeAll(Runnable... writes) {
        RuntimeException first = null;
        for (Runnable write : writes) {
            try {
                write.run();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** Thrown by {@link #next} at {@code --help} or {@code -h} where an option may stand. */
    static final class HelpRequested extends RuntimeException {
        private static final long serialVersionUID = 1L;

        HelpRequested() {
            super("help", null, false, false);
        }
    }

    /**
     * Moves to the next option.
     *
     * @return whether there was one; {@link #name()} and {@link #value()} then describe it
     * @throws UsageException on a word that is not an option, an unknown option or a missing value
     * @throws HelpRequested   at {@code --help} or {@code -h}
     */
    boolean next() {
        if (next == args.size()) {
            return false;
        }
        String arg = args.get(next++);
        if (arg.equals("--help") || arg.equals("-h")) {
            // Only here, where an option may stand: "--prompt -h" is a prompt.
            throw new HelpRequested();
        }
        if (!arg.startsWith("--")) {
            throw new UsageException("unexpected argument '" + arg + "'");
        }
        if (flags.contains(arg)) {
            name = arg;
            value = null;
            return true;
        }
        int equals = arg.indexOf('=');
        name = equals < 0 ? arg : arg.substring(0, equals);
        if (flags.contains(name)) {
            throw new UsageException("option " + name + " takes no value, got '" + arg + "'");
        }
        if (!valued.contains(name)) {
            throw new UsageException("unknown option '" + name + "'");
        }
        if (equals >= 0) {
            value = arg.substring(equals + 1);
        } else if (next < args.size()) {
            value = args.get(next++);
            if (value.startsWith("--")) {
                // "--save --quiet": most likely a value left out, not a file named --quiet.
                throw new UsageException("option " + name + " needs a value, got the option '" + value + "' (write "
                        + name + "=" + value + " for a value that starts with --)");
            }
        } else {
            throw new UsageException("option " + name + " needs a value");
        }
        return true;
    }

    /**
     * The current option's name.
     *
     * @return the name with its dashes, such as {@code --epochs}
     */
    String name() {
        return name;
    }

    /**
     * The current option's value as written.
     *
     * @return the value, or {@code null} for a flag
     */
    String value() {
        return value;
    }

    /**
     * The current option's value as an integer.
     *
     * @param minimum the least value allowed
     * @return the value
     * @throws UsageException when it is not an integer of at least {@code minimum}
     */
    int intAtLeast(int minimum) {
        try {
            int parsed = Integer.parseInt(value.trim());
            if (parsed >= minimum) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // reported below with the option's name
        }
        throw new UsageException("option " + name + " needs an integer >= " + minimum + ", got '" + value + "'");
    }

    /**
     * The current option's value as a positive, finite float.
     *
     * @return the value
     * @throws UsageException when it is not a positive number
     */
    float positiveFloat() {
        try {
            float parsed = Float.parseFloat(value.trim());
            if (parsed > 0f && Float.isFinite(parsed)) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // reported below with the option's name
        }
        throw new UsageException("option " + name + " needs a positive number, got '" + value + "'");
    }

    /**
     * The current option's value as a long.
     *
     * @return the value
     * @throws UsageException when it is not an integer
     */
    long longValue() {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("option " + name + " needs an integer, got '" + value + "'");
        }
    }

    /**
     * The current option's value as the name of a backend.
     *
     * @return {@code cpu} or {@code cuda}
     * @throws UsageException when it is neither, in any case
     */
    String backend() {
        String backend = value.trim().toLowerCase(Locale.ROOT);
        if (!backend.equals("cpu") && !backend.equals("cuda")) {
            throw new UsageException("option " + name + " needs cpu or cuda, got '" + value + "'");
        }
        return backend;
    }

    /**
     * The current option's value as one of a few words, in any case.
     *
     * @param choices the words allowed, in lower case
     * @return the word, in lower case
     * @throws UsageException naming the choices when it is none of them
     */
    String choice(String... choices) {
        String word = value.trim().toLowerCase(Locale.ROOT);
        for (String choice : choices) {
            if (choice.equals(word)) {
                return word;
            }
        }
        throw new UsageException("option " + name + " needs one of " + String.join(", ", choices) + ", got '" + value + "'");
    }

    /**
     * The current option's value as a float in {@code [minimum, maximum)} or {@code [minimum, maximum]}.
     *
     * @param minimum          the least value allowed
     * @param maximum          the bound above
     * @param maximumInclusive whether the bound itself is allowed
     * @return the value
     * @throws UsageException when it is not a number in the range
     */
    float floatIn(float minimum, float maximum, boolean maximumInclusive) {
        try {
            float parsed = Float.parseFloat(value.trim());
            if (parsed >= minimum && (parsed < maximum || maximumInclusive && parsed == maximum)) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // reported below with the option's name
        }
        throw new UsageException("option " + name + " needs a number in [" + minimum + ", " + maximum
                + (maximumInclusive ? "]" : ")") + ", got '" + value + "'");
    }

    /**
     * The current option's value as a checkpoint policy.
     *
     * @return the policy
     * @throws UsageException naming the spellings when it is not one
     */
    org.adjoint.checkpoint.CheckpointPolicy policy() {
        try {
            return org.adjoint.checkpoint.CheckpointPolicy.parse(value);
        } catch (IllegalArgumentException e) {
            throw new UsageException("option " + name + ": " + e.getMessage());
        }
    }
}
