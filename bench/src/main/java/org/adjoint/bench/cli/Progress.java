package org.adjoint.bench.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * What a training run shows while it runs. On a terminal, one progress bar per epoch redrawn
 * in place (at most ten times a second): steps done, steps per second, running loss and the
 * time left in the epoch. Elsewhere (a pipe, a file, CI) no bar: the epoch lines only, so that
 * logs stay readable. Quiet shows nothing but what the caller prints itself.
 */
final class Progress {

    /** How the progress is shown. */
    enum Mode {
        /** A bar redrawn in place with carriage returns. */
        BAR,
        /** One line per epoch, no bar. */
        LINES,
        /** Nothing. */
        QUIET
    }

    private static final int BAR_WIDTH = 24;
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintStream out;
    private final Mode mode;
    private final String unit;
    private int epoch;
    private int epochs;
    private int steps;
    private long epochStart;
    private long lastDraw;
    private int lastLength;

    Progress(PrintStream out, Mode mode) {
        this(out, mode, "epoch");
    }

    /**
     * A display whose bar names its parts other than epochs.
     *
     * @param out  where it draws
     * @param mode how
     * @param unit what one bar covers, such as {@code epoch} (the bar reads {@code epoch 2/10})
     */
    Progress(PrintStream out, Mode mode, String unit) {
        this.out = out;
        this.mode = mode;
        this.unit = unit;
    }

    /**
     * The mode for this process: a bar when standard output is a terminal.
     *
     * @param quiet whether the user asked for quiet
     * @return the mode
     */
    static Mode detect(boolean quiet) {
        if (quiet) {
            return Mode.QUIET;
        }
        java.io.Console console = System.console();
        return console != null && console.isTerminal() ? Mode.BAR : Mode.LINES;
    }

    Mode mode() {
        return mode;
    }

    void startEpoch(int epoch, int epochs, int steps) {
        this.epoch = epoch;
        this.epochs = epochs;
        this.steps = steps;
        this.epochStart = System.nanoTime();
        this.lastDraw = 0;
        this.lastLength = 0;
    }

    /**
     * Reports a finished step.
     *
     * @param done        steps finished in this epoch
     * @param runningLoss mean loss over the epoch's steps so far
     */
    void step(int done, double runningLoss) {
        if (mode != Mode.BAR) {
            return;
        }
        long now = System.nanoTime();
        if (done < steps && now - lastDraw < REDRAW_NANOS) {
            return;
        }
        lastDraw = now;
        double seconds = (now - epochStart) / 1e9;
        double rate = done / Math.max(seconds, 1e-9);
        int filled = (int) ((long) BAR_WIDTH * done / Math.max(steps, 1));
        String bar = "=".repeat(filled) + (filled < BAR_WIDTH ? ">" + " ".repeat(BAR_WIDTH - filled - 1) : "");
        String eta = done < steps ? "ETA " + duration((steps - done) / Math.max(rate, 1e-9)) : duration(seconds);
        String line = String.format(Locale.ROOT, "%s %d/%d [%s] %d/%d  %.0f steps/s  loss %.4f  %s", unit,
                epoch, epochs, bar, done, steps, rate, runningLoss, eta);
        out.print("\r" + line + " ".repeat(Math.max(0, lastLength - line.length())));
        lastLength = line.length();
        out.flush();
    }

    /**
     * Ends the epoch's bar and prints the epoch line (unless quiet).
     *
     * @param line the summary of the epoch
     */
    void endEpoch(String line) {
        if (mode == Mode.QUIET) {
            return;
        }
        if (mode == Mode.BAR) {
            out.print("\r" + " ".repeat(lastLength) + "\r");
        }
        out.println(line);
    }

    /**
     * A short human duration: {@code 42s}, {@code 3m05s}, {@code 0.8s}.
     *
     * @param seconds the duration
     * @return the text
     */
    static String duration(double seconds) {
        if (seconds < 10) {
            return String.format(Locale.ROOT, "%.1fs", seconds);
        }
        long whole = Math.round(seconds);
        return whole < 60 ? whole + "s" : String.format(Locale.ROOT, "%dm%02ds", whole / 60, whole % 60);
    }
}
