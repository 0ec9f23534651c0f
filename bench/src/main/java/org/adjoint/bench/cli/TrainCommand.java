package org.adjoint.bench.cli;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Backends;
import org.adjoint.checkpoint.CheckpointMeter;
import org.adjoint.checkpoint.CheckpointPolicy;
import org.adjoint.cpu.CpuBackend;
import org.adjoint.data.Batch;
import org.adjoint.data.Dataset;
import org.adjoint.io.SafeTensors;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Dropout;
import org.adjoint.nn.GELU;
import org.adjoint.nn.Layer;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Losses;
import org.adjoint.nn.RandomState;
import org.adjoint.nn.Sequential;
import org.adjoint.optim.Adam;
import org.adjoint.optim.AdamW;
import org.adjoint.optim.CosineDecay;
import org.adjoint.optim.LearningRateSchedule;
import org.adjoint.optim.Optimizer;
import org.adjoint.optim.SGD;
import org.adjoint.optim.StepDecay;

/**
 * {@code adjoint train}: trains an MLP classifier with softmax cross-entropy on the bundled
 * digits (default) or on Fashion-MNIST, showing progress, evaluating on the test set after
 * every epoch, and ending with a summary (time per step, examples per second, peak saved
 * activation bytes, backend and kernels). The hidden layers run as one {@link Sequential}
 * chain under the {@code --checkpoint} policy.
 */
public final class TrainCommand {

    static final String USAGE_TEXT = """
            usage: adjoint train [options]

            Trains a classifier (softmax cross-entropy) and evaluates it on the test set
            after every epoch. Default: the bundled 8x8 handwritten digits (1,797 images,
            80/20 split), MLP 64-128-64-10 with ReLU, Adam.

            data:
              --data D          digits (default, bundled) or fashion-mnist
              --data-dir DIR    an MNIST-format directory (train-/t10k- images and labels,
                                .gz or not) instead of /usr/share/datasets/fashion-mnist
            model:
              --model M         an MLP's hidden widths W,W,... (default 128,64 for digits,
                                256,128 for fashion-mnist; input and output come from the data),
                                cnn (two 3x3 convolutions, 32 and 64 channels, each with ReLU
                                and 2x2 max pooling, then 128 hidden units) or resnet (a
                                32-channel stem, three residual blocks with batch norm, 64
                                channels at the end, global average pooling)
              --activation A    relu (default), tanh, sigmoid or gelu (MLP only)
              --dropout P       dropout after each hidden layer (default 0; cnn: before the last)
            training:
              --epochs N        passes over the training set (default 30 for digits, 10 for
                                fashion-mnist; 0 only evaluates, with --load)
              --batch N         examples per step (default 32 for digits, 64 for fashion-mnist)
              --optimizer O     adam (default), adamw or sgd
              --lr F            learning rate (default 0.001 for adam/adamw, 0.1 for sgd)
              --momentum F      SGD momentum (default 0.9)
              --weight-decay F  L2 for sgd/adam, decoupled for adamw (default 0; 0.01 for adamw)
              --schedule S      constant (default), cosine (to 0 over the run, per step) or
                                step (x0.1 after each third of the epochs)
              --checkpoint P    none (default), every:K, sqrt, binomial:C or budget:BYTES
              --seed N          seed of the split, the weights, dropout and shuffling (default 42)
              --backend B       cpu or cuda (default: the best one available)
            output:
              --plot FILE.png   loss and accuracy curves
              --save FILE       the trained parameters, safetensors format
              --load FILE       start from parameters saved by --save
              --quiet           only the summary
              -h, --help        print this help
            """;

    /** Hidden activations the command line offers. */
    public enum HiddenActivation {
        /** {@code max(x, 0)}, fused into the layer. */
        RELU,
        /** {@code tanh}, fused into the layer. */
        TANH,
        /** The logistic function, fused into the layer. */
        SIGMOID,
        /** Exact GELU ({@code x·Φ(x)}, PyTorch's {@code nn.GELU()}), as a module after the layer. */
        GELU
    }

    /**
     * What to train and how. {@code null} or NaN fields take the data set's or optimizer's default.
     *
     * @param data         {@code digits} or {@code fashion-mnist}
     * @param dataDir      an MNIST-format directory, or {@code null}
     * @param hidden       hidden widths, or {@code null} for the data set's default
     * @param network      {@code mlp}, {@code cnn} or {@code resnet}
     * @param activation   hidden activation
     * @param dropout      dropout probability after each hidden layer
     * @param epochs       passes over the training set, or -1 for the data set's default
     * @param batch        examples per step, or -1 for the data set's default
     * @param optimizer    {@code adam}, {@code adamw} or {@code sgd}
     * @param learningRate step size, or NaN for the optimizer's default
     * @param momentum     SGD momentum
     * @param weightDecay  weight decay, or NaN for the optimizer's default
     * @param schedule     {@code constant}, {@code cosine} or {@code step}
     * @param checkpoint   the chain's checkpoint policy
     * @param seed         seed of everything random
     * @param backend      {@code cpu}, {@code cuda} or {@code null} for automatic selection
     * @param plot         PNG to draw the curves into, or {@code null}
     * @param save         file to save the parameters to, or {@code null}
     * @param load         file to load the parameters from, or {@code null}
     * @param quiet        print only the summary
     */
    public record Options(String data, Path dataDir, List<Integer> hidden, String network, HiddenActivation activation,
                          float dropout,
                          int epochs, int batch, String optimizer, float learningRate, float momentum,
                          float weightDecay, String schedule, CheckpointPolicy checkpoint, long seed, String backend,
                          Path plot, Path save, Path load, boolean quiet) {

        /**
         * The defaults of the command line.
         *
         * @return digits, data-set defaults for the model, epochs and batch, ReLU, Adam
         */
        public static Options defaults() {
            return new Options("digits", null, null, "mlp", HiddenActivation.RELU, 0f, -1, -1, "adam", Float.NaN, 0.9f,
                    Float.NaN, "constant", CheckpointPolicy.none(), 42, null, null, null, null, false);
        }

        /**
         * The same options with another epoch count.
         *
         * @param count passes over the training set
         * @return the changed options
         */
        public Options withEpochs(int count) {
            return new Options(data, dataDir, hidden, network, activation, dropout, count, batch, optimizer, learningRate,
                    momentum, weightDecay, schedule, checkpoint, seed, backend, plot, save, load, quiet);
        }

        /**
         * The same options with another checkpoint policy.
         *
         * @param policy the chain's policy
         * @return the changed options
         */
        public Options withCheckpoint(CheckpointPolicy policy) {
            return new Options(data, dataDir, hidden, network, activation, dropout, epochs, batch, optimizer, learningRate,
                    momentum, weightDecay, schedule, policy, seed, backend, plot, save, load, quiet);
        }
    }

    /**
     * One epoch's figures.
     *
     * @param epoch         its number, from 1
     * @param trainLoss     cross-entropy averaged over every training example of the epoch
     * @param testLoss      cross-entropy on the test set after the epoch
     * @param testAccuracy  fraction of the test set classified correctly after the epoch
     * @param millisPerStep mean wall time of one step (batch upload, forward, backward, update)
     */
    public record EpochResult(int epoch, double trainLoss, double testLoss, double testAccuracy, double millisPerStep) {
    }

    /**
     * The outcome of a run.
     *
     * @param epochs            figures of each epoch, in order
     * @param testAccuracy      test accuracy at the end
     * @param testLoss          test loss at the end
     * @param millisPerStep     mean step time over the run
     * @param examplesPerSecond training examples per second of step time
     * @param peakSavedBytes    the most activation bytes held at once for a backward pass
     * @param totalSeconds      wall time of the whole run, loading the data included
     */
    public record Result(List<EpochResult> epochs, double testAccuracy, double testLoss, double millisPerStep,
                         double examplesPerSecond, long peakSavedBytes, double totalSeconds) {

        /**
         * Copies the list.
         *
         * @param epochs            figures of each epoch
         * @param testAccuracy      test accuracy at the end
         * @param testLoss          test loss at the end
         * @param millisPerStep     mean step time
         * @param examplesPerSecond training throughput
         * @param peakSavedBytes    peak saved activation bytes
         * @param totalSeconds      wall time of the run
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
     * @throws org.adjoint.backend.OutOfMemoryException when memory runs out; {@link Main#run} reports it
     */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        return CommandLine.run("train", USAGE_TEXT, args, out, err, TrainCommand::parse, Options::backend,
                options -> train(options, out, Progress.detect(options.quiet())), _ -> { });
    }

    /**
     * Reads the command line: {@code --name value} or {@code --name=value} for each option.
     *
     * @param args the options after {@code train}
     * @return the options, defaults where not given
     * @throws UsageException naming an unknown option, a missing value or a bad one
     */
    static Options parse(List<String> args) {
        Options d = Options.defaults();
        String data = d.data();
        Path dataDir = d.dataDir();
        List<Integer> hidden = d.hidden();
        String network = d.network();
        HiddenActivation activation = d.activation();
        float dropout = d.dropout();
        int epochs = d.epochs();
        int batch = d.batch();
        String optimizer = d.optimizer();
        float learningRate = d.learningRate();
        float momentum = d.momentum();
        float weightDecay = d.weightDecay();
        String schedule = d.schedule();
        CheckpointPolicy checkpoint = d.checkpoint();
        long seed = d.seed();
        String backend = d.backend();
        Path plot = d.plot();
        Path save = d.save();
        Path load = d.load();
        boolean quiet = d.quiet();
        boolean momentumGiven = false;
        CommandLine line = new CommandLine(args, Set.of("--quiet"), Set.of("--data", "--data-dir", "--model",
                "--activation", "--dropout", "--epochs", "--batch", "--optimizer", "--lr", "--momentum",
                "--weight-decay", "--schedule", "--checkpoint", "--seed", "--backend", "--plot", "--save", "--load"));
        while (line.next()) {
            switch (line.name()) {
                case "--data" -> data = line.choice("digits", "fashion-mnist");
                case "--data-dir" -> dataDir = Path.of(line.value());
                case "--model" -> {
                    String value = line.value();
                    String word = value.trim().toLowerCase(java.util.Locale.ROOT); // as the other choices: any case
                    network = word.equals("cnn") || word.equals("resnet") ? word : "mlp";
                    hidden = network.equals("mlp") ? widths(value) : null;
                }
                case "--activation" -> activation = HiddenActivation.valueOf(
                        line.choice("relu", "tanh", "sigmoid", "gelu").toUpperCase(Locale.ROOT));
                case "--dropout" -> dropout = line.floatIn(0f, 1f, false);
                case "--epochs" -> epochs = line.intAtLeast(0);
                case "--batch" -> batch = line.intAtLeast(1);
                case "--optimizer" -> optimizer = line.choice("adam", "adamw", "sgd");
                case "--lr" -> learningRate = line.positiveFloat();
                case "--momentum" -> {
                    momentum = line.floatIn(0f, 1f, false);
                    momentumGiven = true;
                }
                case "--weight-decay" -> weightDecay = line.floatIn(0f, Float.MAX_VALUE, true);
                case "--schedule" -> schedule = line.choice("constant", "cosine", "step");
                case "--checkpoint" -> checkpoint = line.policy();
                case "--seed" -> seed = line.longValue();
                case "--backend" -> backend = line.backend();
                case "--plot" -> plot = Path.of(line.value());
                case "--save" -> save = Path.of(line.value());
                case "--load" -> load = Path.of(line.value());
                case "--quiet" -> quiet = true;
                default -> throw new AssertionError(line.name());
            }
        }
        if (dataDir != null && !data.equals("fashion-mnist")) {
            throw new UsageException("option --data-dir needs --data fashion-mnist (the digits are bundled)");
        }
        if (dataDir != null && !Files.isDirectory(dataDir)) {
            throw new UsageException("option --data-dir " + dataDir + ": not a folder");
        }
        if (!network.equals("mlp") && activation != HiddenActivation.RELU) {
            throw new UsageException("option --activation is for MLPs; --model " + network + " uses ReLU");
        }
        if (network.equals("resnet") && dropout > 0) {
            throw new UsageException("option --dropout is for --model mlp and cnn; resnet has batch norm instead");
        }
        if (epochs == 0 && load == null) {
            throw new UsageException("option --epochs 0 only evaluates, and needs --load FILE");
        }
        if (momentumGiven && !optimizer.equals("sgd")) {
            // Adam and AdamW have betas instead; taking the value silently would train something else than asked.
            throw new UsageException("option --momentum is for --optimizer sgd; " + optimizer + " has no momentum"
                    + " option");
        }
        CommandLine.checkWritable("--save", save, false);
        CommandLine.checkWritable("--plot", plot, true);
        CommandLine.checkReadable("--load", load);
        CommandLine.checkPlotApart(plot, save, load);
        return new Options(data, dataDir, hidden, network, activation, dropout, epochs, batch, optimizer, learningRate,
                momentum, weightDecay, schedule, checkpoint, seed, backend, plot, save, load, quiet);
    }

    private static List<Integer> widths(String value) {
        List<Integer> widths = new ArrayList<>();
        // -1: a trailing separator ("128,64,") is an empty width, refused like any other.
        for (String part : value.trim().split("[,x-]", -1)) {
            try {
                int width = Integer.parseInt(part.trim());
                if (width >= 1) {
                    widths.add(width);
                    continue;
                }
            } catch (NumberFormatException e) {
                // reported below with the whole value
            }
            throw new UsageException("option --model needs cnn, resnet or hidden widths like 256,128 (each >= 1), got '"
                    + value + "'");
        }
        return List.copyOf(widths);
    }

    /**
     * Trains on the current backend and prints the progress.
     *
     * @param options  what to train and how
     * @param out      where the header, the epochs and the summary go
     * @param progress how to show progress
     * @return the figures that were printed
     */
    public static Result train(Options options, PrintStream out, Progress.Mode progress) {
        long start = System.nanoTime();
        TrainingData data = TrainingData.load(options.data(), options.dataDir(), options.seed());
        boolean digits = options.data().equals("digits");
        List<Integer> hidden = options.hidden() != null ? options.hidden() : digits ? List.of(128, 64) : List.of(256, 128);
        int epochs = options.epochs() >= 0 ? options.epochs() : digits ? 30 : 10;
        int batchSize = options.batch() > 0 ? options.batch() : digits ? 32 : 64;
        int classes = data.classes();
        int side = (int) Math.round(Math.sqrt(data.train().width()));
        if (!options.network().equals("mlp") && side * side != data.train().width()) {
            // The command line's fault, found before any training (exit code 2).
            throw new UsageException("option --model " + options.network() + " needs square images, but the data has "
                    + data.train().width() + " features per example");
        }
        Sequential model = switch (options.network()) {
            case "cnn" -> Networks.cnn(side, classes, options.dropout(), options.seed());
            case "resnet" -> Networks.resnet(side, classes, options.seed());
            default -> model(data.train().width(), hidden, classes, options.activation(), options.dropout(),
                    options.seed());
        };
        String architecture = options.network().equals("mlp")
                ? "MLP " + data.train().width() + "-" + String.join("-", hidden.stream().map(String::valueOf).toList())
                        + "-" + classes
                : options.network().toUpperCase(Locale.ROOT).replace("RESNET", "ResNet") + " on " + side + "x" + side
                        + " images";
        String plotTitle = "Adjoint: " + architecture + " on " + data.name();
        if (options.load() != null) {
            Map<String, Tensor> saved = SafeTensors.load(options.load());
            try {
                model.loadStateDict(saved);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(options.load() + " does not fit " + architecture
                        + " (" + options.activation().name().toLowerCase(Locale.ROOT)
                        + (options.dropout() > 0 ? ", dropout" : "") + "); pass the --model, --activation and "
                        + "--dropout it was trained with. " + e.getMessage(), e);
            }
        }
        Optimizer optimizer = optimizer(options, model);
        int batch = Math.min(batchSize, Math.max(1, data.train().size()));
        int stepsPerEpoch = data.train().batches(batch).count();
        if ((long) epochs * stepsPerEpoch > Integer.MAX_VALUE) {
            // The schedules count steps in an int; past it the rate would wrap.
            throw new UsageException("options --epochs " + epochs + " and --batch " + batchSize + " make "
                    + (long) epochs * stepsPerEpoch + " steps on " + data.train().size() + " examples, more than "
                    + Integer.MAX_VALUE);
        }
        LearningRateSchedule schedule = switch (options.schedule()) {
            case "cosine" -> new CosineDecay(optimizer.learningRate(), 0f, Math.max(1, epochs * stepsPerEpoch));
            case "step" -> new StepDecay(optimizer.learningRate(), Math.max(1, (epochs + 2) / 3 * stepsPerEpoch), 0.1f);
            default -> null;
        };
        Backend backend = Backends.current();
        Progress display = new Progress(out, progress);
        if (progress != Progress.Mode.QUIET) {
            out.printf(Locale.ROOT, "training %s (%s%s, %,d parameters) on %s%n", architecture,
                    options.activation().name().toLowerCase(Locale.ROOT),
                    options.dropout() > 0 ? ", dropout " + options.dropout() : "", model.parameterCount(),
                    data.description());
            out.printf(Locale.ROOT, "%s lr %s%s, batch %d, %d epoch%s, checkpoint %s, seed %d, backend %s%n",
                    options.optimizer(), optimizer.learningRate(), schedule == null ? "" : " (" + options.schedule() + ")",
                    batch, epochs, epochs == 1 ? "" : "s", options.checkpoint(), options.seed(), describe(backend));
        }

        RandomState.set(options.seed());
        CheckpointMeter meter = new CheckpointMeter();
        List<EpochResult> results = new ArrayList<>();
        int width = Integer.toString(epochs).length();
        long stepNanos = 0;
        long steps = 0;
        long examples = 0;
        double[] test = evaluate(model, data.test());
        for (int epoch = 1; epoch <= epochs; epoch++) {
            model.train(true);
            display.startEpoch(epoch, epochs, stepsPerEpoch);
            double lossSum = 0;
            long epochNanos = 0;
            int step = 0;
            for (Batch b : data.train().batches(batch).shuffle(options.seed(), epoch)) {
                long stepStart = System.nanoTime();
                if (schedule != null) {
                    schedule.apply(optimizer, (epoch - 1) * stepsPerEpoch + step);
                }
                optimizer.zeroGrad();
                Tensor loss = Losses.crossEntropy(model.apply(b.features(), options.checkpoint(), meter), b.labels());
                loss.backward();
                optimizer.step();
                // item() waits for the device, so the step time covers the work, not its launch.
                float value = loss.item();
                epochNanos += System.nanoTime() - stepStart;
                if (!Float.isFinite(value)) {
                    String diverged = String.format(Locale.ROOT,
                            "the loss became %s at epoch %d, step %d; lower the learning rate (--lr, now %s)",
                            value, epoch, step + 1, optimizer.learningRate());
                    String finished = results.isEmpty() ? null
                            : "the " + results.size() + " finished epoch" + (results.size() == 1 ? "" : "s");
                    throw CommandLine.diverged(diverged, options.plot(), finished,
                            () -> LossPlot.write(options.plot(), plotTitle, results));
                }
                lossSum += (double) value * b.size();
                step++;
                display.step(step, lossSum / ((long) (step - 1) * batch + b.size()));
            }
            stepNanos += epochNanos;
            steps += step;
            examples += data.train().size();
            test = evaluate(model, data.test());
            EpochResult result = new EpochResult(epoch, lossSum / data.train().size(), test[0], test[1],
                    epochNanos / 1e6 / Math.max(step, 1));
            results.add(result);
            display.endEpoch(String.format(Locale.ROOT,
                    "epoch %" + width + "d/%d  train loss %.4f  test loss %.4f  test accuracy %5.2f%%  %.3f ms/step  %.1f s",
                    epoch, epochs, result.trainLoss(), result.testLoss(), 100 * result.testAccuracy(),
                    result.millisPerStep(), epochNanos / 1e9));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double millisPerStep = steps == 0 ? 0 : stepNanos / 1e6 / steps;
        double examplesPerSecond = stepNanos == 0 ? 0 : examples / (stepNanos / 1e9);
        Result result = new Result(results, test[1], test[0], millisPerStep, examplesPerSecond, meter.peakSavedBytes(),
                seconds);
        out.printf(Locale.ROOT, "test accuracy %.2f%% (%d of %d), test loss %.4f after %d epoch%s (%d steps)%n",
                100 * result.testAccuracy(), Math.round(result.testAccuracy() * data.test().size()), data.test().size(),
                result.testLoss(), epochs, epochs == 1 ? "" : "s", steps);
        out.printf(Locale.ROOT, "%.3f ms/step, %,.0f examples/s, peak saved activations %s (checkpoint %s), "
                        + "total %.1f s, backend %s%n",
                millisPerStep, examplesPerSecond, bytes(result.peakSavedBytes()), options.checkpoint(), seconds,
                describe(backend));
        CommandLine.writeAll(() -> {
            if (options.save() != null) {
                Map<String, String> metadata = new LinkedHashMap<>();
                metadata.put("format", "adjoint");
                metadata.put("model", architecture.toLowerCase(Locale.ROOT) + " "
                        + options.activation().name().toLowerCase(Locale.ROOT)
                        + (options.dropout() > 0 ? " dropout " + options.dropout() : ""));
                metadata.put("data", data.name());
                metadata.put("test_accuracy", String.format(Locale.ROOT, "%.4f", result.testAccuracy()));
                SafeTensors.save(options.save(), model.stateDict(), metadata);
                out.println("parameters saved to " + options.save());
            }
        }, () -> {
            if (options.plot() != null) {
                LossPlot.write(options.plot(), plotTitle, results);
                out.println("plot written to " + options.plot());
            }
        });
        return result;
    }

    static Sequential model(int inputs, List<Integer> hidden, int classes, HiddenActivation activation, float dropout,
                            long seed) {
        List<Layer> layers = new ArrayList<>();
        int in = inputs;
        long layerSeed = seed;
        for (int width : hidden) {
            layerSeed = layerSeed * 6364136223846793005L + 1442695040888963407L;
            switch (activation) {
                case RELU -> layers.add(new Linear(in, width, Activation.RELU, layerSeed));
                case TANH -> layers.add(new Linear(in, width, Activation.TANH, layerSeed));
                case SIGMOID -> layers.add(new Linear(in, width, Activation.SIGMOID, layerSeed));
                case GELU -> {
                    layers.add(new Linear(in, width, layerSeed));
                    layers.add(new GELU());
                }
            }
            if (dropout > 0f) {
                layers.add(new Dropout(dropout));
            }
            in = width;
        }
        layers.add(new Linear(in, classes, layerSeed * 6364136223846793005L + 1442695040888963407L));
        return new Sequential(layers);
    }

    private static Optimizer optimizer(Options options, Sequential model) {
        boolean sgd = options.optimizer().equals("sgd");
        float learningRate = Float.isNaN(options.learningRate()) ? sgd ? 0.1f : 1e-3f : options.learningRate();
        float decay = options.weightDecay();
        return switch (options.optimizer()) {
            case "sgd" -> new SGD(model.parameters(), learningRate, options.momentum(), Float.isNaN(decay) ? 0f : decay);
            case "adamw" -> new AdamW(model.parameters(), learningRate, Adam.DEFAULT_BETA1, Adam.DEFAULT_BETA2,
                    Adam.DEFAULT_EPSILON, Float.isNaN(decay) ? AdamW.DEFAULT_WEIGHT_DECAY : decay);
            default -> new Adam(model.parameters(), learningRate, Adam.DEFAULT_BETA1, Adam.DEFAULT_BETA2,
                    Adam.DEFAULT_EPSILON, Float.isNaN(decay) ? 0f : decay);
        };
    }

    /** Test loss and accuracy, in evaluation mode, without a tape, in slices that bound memory. */
    private static double[] evaluate(Sequential model, Dataset test) {
        model.eval();
        double lossSum = 0;
        long correct = 0;
        try (var _ = GradMode.noGrad()) {
            for (Batch b : test.batches(1024)) {
                Tensor logits = model.apply(b.features());
                lossSum += (double) Losses.crossEntropy(logits, b.labels()).item() * b.size();
                float[] values = logits.toFloatArray();
                int classes = values.length / b.size();
                for (int row = 0; row < b.size(); row++) {
                    int best = 0;
                    for (int c = 1; c < classes; c++) {
                        if (values[row * classes + c] > values[row * classes + best]) {
                            best = c;
                        }
                    }
                    correct += best == b.labels()[row] ? 1 : 0;
                }
            }
        }
        int n = Math.max(test.size(), 1);
        return new double[] {lossSum / n, (double) correct / n};
    }

    static String describe(Backend backend) {
        return backend instanceof CpuBackend cpu ? backend.name() + " (" + cpu.kernels().name() + " kernels)"
                : backend.name();
    }

    static String bytes(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        return bytes < 1024 * 1024 ? String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0)
                : String.format(Locale.ROOT, "%.2f MiB", bytes / (1024.0 * 1024));
    }
}
