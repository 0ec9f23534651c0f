package org.adjoint.bench.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;
import org.adjoint.backend.Backends;

/**
 * {@code adjoint train}: trains an {@link Mlp} {@code 2 -> hidden -> hidden -> 2} with plain
 * SGD and softmax cross-entropy on {@link TwoMoons}, printing one line per epoch (mean loss,
 * training accuracy, time per step) and a final line with the accuracy and the total time.
 */
public final class TrainCommand {

    static final String USAGE_TEXT = """
            usage: adjoint train [options]

            Trains an MLP 2 -> hidden -> hidden -> 2 with plain SGD and softmax cross-entropy
            on two interleaved half-moons with noise, drawn from the seed.

            options:
              --epochs N        passes over the data (default 20)
              --batch N         rows per step (default 32)
              --lr F            learning rate (default 0.1)
              --hidden N        width of both hidden layers (default 16)
              --activation A    tanh or relu (default tanh)
              --seed N          seed of the data, the initial weights and the shuffling (default 42)
              --samples N       points in the data set (default 512)
              --backend B       cpu or cuda (default: the best one available)
              -h, --help        print this help
            """;

    /**
     * What to train and how.
     *
     * @param epochs       passes over the data
     * @param batch        rows per step (the last step of an epoch may have fewer)
     * @param learningRate SGD step size
     * @param hidden       width of both hidden layers
     * @param activation   hidden non-linearity
     * @param seed         seed of the data, the initial weights and the shuffling
     * @param samples      points in the data set
     * @param backend      {@code cpu} or {@code cuda}, or {@code null} for automatic selection
     */
    public record Options(int epochs, int batch, float learningRate, int hidden, Mlp.Activation activation,
                          long seed, int samples, String backend) {

        /**
         * The defaults of the command line.
         *
         * @return 20 epochs, batch 32, learning rate 0.1, 16 hidden units, tanh, seed 42,
         *         512 samples, automatic backend
         */
        public static Options defaults() {
            return new Options(20, 32, 0.1f, 16, Mlp.Activation.TANH, 42, 512, null);
        }
    }

    /**
     * One epoch's figures.
     *
     * @param epoch         its number, from 1
     * @param meanLoss      cross-entropy averaged over every row seen in the epoch
     * @param accuracy      fraction of the training set classified correctly after the epoch
     * @param millisPerStep mean wall time of one step (batch upload, forward, backward, update)
     */
    public record EpochResult(int epoch, double meanLoss, double accuracy, double millisPerStep) {
    }

    /**
     * The outcome of a run.
     *
     * @param epochs        figures of each epoch, in order
     * @param finalAccuracy training accuracy at the end
     * @param totalSeconds  wall time of the whole run, data generation and evaluation included
     */
    public record Result(List<EpochResult> epochs, double finalAccuracy, double totalSeconds) {

        /**
         * Copies the list.
         *
         * @param epochs        figures of each epoch
         * @param finalAccuracy training accuracy at the end
         * @param totalSeconds  wall time of the run
         */
        public Result {
            epochs = List.copyOf(epochs);
        }
    }

    private TrainCommand() {
    }

    /**
     * Parses the options, trains and prints; errors in the command line are reported on
     * {@code err} with the usage.
     *
     * @param args the options after {@code train}
     * @param out  where the progress goes
     * @param err  where errors go
     * @return the exit code: {@link Main#OK}, {@link Main#FAILED} or {@link Main#USAGE}
     */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        return CommandLine.run("train", USAGE_TEXT, args, out, err, TrainCommand::parse, Options::backend,
                options -> train(options, out), _ -> { });
    }

    /**
     * Reads the command line: {@code --name value} or {@code --name=value} for each option.
     *
     * @param args the options after {@code train}
     * @return the options, defaults where not given
     * @throws UsageException naming an unknown option, a missing value or a bad one
     */
    static Options parse(List<String> args) {
        Options defaults = Options.defaults();
        int epochs = defaults.epochs();
        int batch = defaults.batch();
        float learningRate = defaults.learningRate();
        int hidden = defaults.hidden();
        Mlp.Activation activation = defaults.activation();
        long seed = defaults.seed();
        int samples = defaults.samples();
        String backend = defaults.backend();
        CommandLine line = new CommandLine(args, Set.of(), Set.of("--epochs", "--batch", "--lr", "--hidden",
                "--activation", "--seed", "--samples", "--backend"));
        while (line.next()) {
            switch (line.name()) {
                case "--epochs" -> epochs = line.intAtLeast(1);
                case "--batch" -> batch = line.intAtLeast(1);
                case "--lr" -> learningRate = line.positiveFloat();
                case "--hidden" -> hidden = line.intAtLeast(1);
                case "--activation" -> activation = activation(line.value());
                case "--seed" -> seed = line.longValue();
                case "--samples" -> samples = line.intAtLeast(2);
                case "--backend" -> backend = line.backend();
                default -> throw new AssertionError(line.name());
            }
        }
        return new Options(epochs, batch, learningRate, hidden, activation, seed, samples, backend);
    }

    private static Mlp.Activation activation(String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "tanh" -> Mlp.Activation.TANH;
            case "relu" -> Mlp.Activation.RELU;
            default -> throw new UsageException("option --activation needs tanh or relu, got '" + value + "'");
        };
    }

    /**
     * Trains on the current backend and prints the progress.
     *
     * @param options what to train and how
     * @param out     where the header, one line per epoch and the final line go
     * @return the figures that were printed
     */
    public static Result train(Options options, PrintStream out) {
        long start = System.nanoTime();
        SplittableRandom seeds = new SplittableRandom(options.seed());
        TwoMoons data = TwoMoons.generate(options.samples(), seeds.nextLong());
        Mlp model = Mlp.initialize(2, options.hidden(), TwoMoons.CLASSES, options.activation(), seeds.nextLong());
        SplittableRandom shuffling = seeds.split();

        // Batches are gathered on the host: one download here, one upload per batch.
        float[] points = data.points().toFloatArray();
        float[] labels = data.labels().toFloatArray();
        int n = data.size();
        int batch = Math.min(options.batch(), n);
        int stepsPerEpoch = (n + batch - 1) / batch;

        out.printf(Locale.ROOT, "training MLP 2-%d-%d-2 (%s, %d parameters) on two moons: %d samples, batch %d, "
                        + "lr %s, seed %d, backend %s%n",
                options.hidden(), options.hidden(), options.activation().name().toLowerCase(Locale.ROOT),
                model.parameterCount(), n, batch, options.learningRate(), options.seed(),
                Backends.current().name());

        List<EpochResult> epochs = new ArrayList<>();
        int width = Integer.toString(options.epochs()).length();
        double accuracy = 0;
        for (int epoch = 1; epoch <= options.epochs(); epoch++) {
            int[] order = TwoMoons.permutation(n, shuffling);
            double lossSum = 0;
            long stepNanos = 0;
            for (int step = 0; step < stepsPerEpoch; step++) {
                int from = step * batch;
                int rows = Math.min(batch, n - from);
                long stepStart = System.nanoTime();
                float[] x = new float[2 * rows];
                float[] oneHot = new float[TwoMoons.CLASSES * rows];
                for (int r = 0; r < rows; r++) {
                    int row = order[from + r];
                    x[2 * r] = points[2 * row];
                    x[2 * r + 1] = points[2 * row + 1];
                    oneHot[TwoMoons.CLASSES * r + (int) labels[row]] = 1f;
                }
                Tensor loss = crossEntropy(model.logits(Tensor.of(x, rows, 2)),
                        Tensor.of(oneHot, rows, TwoMoons.CLASSES));
                loss.backward();
                model = model.sgdStep(options.learningRate());
                // item() waits for the device, so the step time covers the work, not its launch.
                lossSum += (double) loss.item() * rows;
                stepNanos += System.nanoTime() - stepStart;
            }
            accuracy = accuracy(model, data.points(), labels);
            EpochResult result = new EpochResult(epoch, lossSum / n, accuracy, stepNanos / 1e6 / stepsPerEpoch);
            epochs.add(result);
            out.printf(Locale.ROOT, "epoch %" + width + "d/%d  loss %.4f  accuracy %5.1f%%  %.3f ms/step%n",
                    epoch, options.epochs(), result.meanLoss(), 100 * result.accuracy(), result.millisPerStep());
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        out.printf(Locale.ROOT, "final accuracy %.1f%% (%d of %d) after %d epoch%s, %d steps; total time %.2f s%n",
                100 * accuracy, Math.round(accuracy * n), n, options.epochs(), options.epochs() == 1 ? "" : "s",
                (long) options.epochs() * stepsPerEpoch, seconds);
        return new Result(epochs, accuracy, seconds);
    }

    /**
     * Mean softmax cross-entropy: {@code -mean over rows of sum over classes of target * logSoftmax(logits)}.
     *
     * @param logits  [rows, classes]
     * @param targets [rows, classes], one-hot
     * @return a rank-0 tensor
     */
    static Tensor crossEntropy(Tensor logits, Tensor targets) {
        return targets.mul(logits.logSoftmax(1)).sum(1, false).mean().neg();
    }

    private static double accuracy(Mlp model, Tensor points, float[] labels) {
        float[] logits;
        try (var _ = GradMode.noGrad()) {
            logits = model.logits(points).toFloatArray();
        }
        int classes = logits.length / labels.length;
        int correct = 0;
        for (int row = 0; row < labels.length; row++) {
            int best = 0;
            for (int c = 1; c < classes; c++) {
                if (logits[row * classes + c] > logits[row * classes + best]) {
                    best = c;
                }
            }
            if (best == (int) labels[row]) {
                correct++;
            }
        }
        return (double) correct / labels.length;
    }
}
