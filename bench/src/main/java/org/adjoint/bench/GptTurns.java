package org.adjoint.bench;

import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Two builds of Adjoint training the GPT in one process, taking turns: each jar gets its own
 * class loader (with this jar behind it for {@link GptTurnStep}), the two models train side by
 * side on the same batches, a few iterations a turn, the first of each pair of turns
 * alternating. On a machine whose speed drifts by a fifth within minutes, separate runs
 * compare two different machines; turns a second apart see the same one. After each pair of
 * turns the two losses' bits are compared: builds that should compute alike must, and the
 * comparison stops at the first pair that differs.
 *
 * <p>Usage: {@code bench/gpt-turns.sh OLD.jar NEW.jar [WARM-UP [TURNS [ITERATIONS]]]}: pairs of
 * turns to warm up (default 15) and to time (default 20), iterations a turn (default 20).
 * Prints each side's mean time an iteration and the geometric mean of the per-pair ratios
 * NEW/OLD, with each pair's ratio.
 */
public final class GptTurns {

    private GptTurns() {
    }

    /**
     * Runs the comparison.
     *
     * @param args the two jars, then optionally warm-up pairs, timed pairs and iterations a turn
     * @throws Exception when a jar cannot be loaded or a step fails
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 2 || args.length > 5) {
            throw new IllegalArgumentException("GptTurns: expected OLD.jar NEW.jar [WARM-UP [TURNS [ITERATIONS]]], got "
                    + args.length + " arguments");
        }
        int warmUp = count(args, 2, 15, 0);
        int turns = count(args, 3, 20, 1);
        int iterations = count(args, 4, 20, 1);
        URL self = GptTurns.class.getProtectionDomain().getCodeSource().getLocation();
        LongSupplier[] sides = {side(args[0], self), side(args[1], self)};
        for (int t = 0; t < warmUp; t++) {
            for (LongSupplier side : sides) {
                turn(side, iterations);
            }
        }
        double[] total = new double[2];
        double logRatio = 0;
        StringBuilder ratios = new StringBuilder();
        for (int t = 0; t < turns; t++) {
            long[] bits = new long[2];
            double[] ms = new double[2];
            for (int j = 0; j < 2; j++) {
                int s = (t & 1) == 0 ? j : 1 - j;
                long start = System.nanoTime();
                bits[s] = turn(sides[s], iterations);
                ms[s] = (System.nanoTime() - start) / 1e6 / iterations;
            }
            if (bits[0] != bits[1]) {
                throw new IllegalStateException("GptTurns: the two builds' losses differ in timed turn " + (t + 1)
                        + " of " + turns + " (after " + warmUp + " warm-up turns of " + iterations + " iterations)");
            }
            total[0] += ms[0];
            total[1] += ms[1];
            logRatio += Math.log(ms[1] / ms[0]);
            ratios.append(String.format(Locale.ROOT, " %.3f", ms[1] / ms[0]));
        }
        System.out.printf(Locale.ROOT, "GPT iteration, %d timed pairs of %d iterations after %d warm-up pairs:%n"
                + "old %.2f ms, new %.2f ms; new/old %.3f (geometric mean of the pairs), the losses' bits equal%n"
                + "pairs:%s%n", turns, iterations, warmUp, total[0] / turns, total[1] / turns,
                Math.exp(logRatio / turns), ratios);
    }

    private static int count(String[] args, int at, int otherwise, int least) {
        if (args.length <= at) {
            return otherwise;
        }
        int value;
        try {
            value = Integer.parseInt(args[at]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("GptTurns: argument " + (at + 1) + " must be a whole number, got '"
                    + args[at] + "'", e);
        }
        if (value < least) {
            throw new IllegalArgumentException("GptTurns: argument " + (at + 1) + " must be at least " + least
                    + ", got " + value);
        }
        return value;
    }

    private static LongSupplier side(String jar, URL self) throws ReflectiveOperationException, MalformedURLException {
        Path path = Path.of(jar);
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException("GptTurns: no jar at " + path.toAbsolutePath());
        }
        // The jar first, so that its Adjoint is the one the step runs on; this jar only for the step.
        URLClassLoader loader = new URLClassLoader(new URL[] {path.toUri().toURL(), self},
                ClassLoader.getPlatformClassLoader());
        return (LongSupplier) Class.forName(GptTurnStep.class.getName(), true, loader).getConstructor().newInstance();
    }

    private static long turn(LongSupplier side, int iterations) {
        long bits = 0;
        for (int i = 0; i < iterations; i++) {
            bits = bits * 31 + side.getAsLong();
        }
        return bits;
    }
}
