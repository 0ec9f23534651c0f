package org.adjoint.bench.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import org.adjoint.Tensor;
import org.adjoint.autodiff.GradMode;
import org.adjoint.backend.Backends;
import org.adjoint.checkpoint.CheckpointMeter;
import org.adjoint.checkpoint.CheckpointPolicy;
import org.adjoint.io.SafeTensors;
import org.adjoint.nn.GPT;
import org.adjoint.nn.RandomState;
import org.adjoint.optim.AdamW;
import org.adjoint.optim.CosineDecay;
import org.adjoint.optim.GradientClipping;
import org.adjoint.optim.LearningRateSchedule;
import org.adjoint.optim.ParameterGroup;

/**
 * {@code adjoint lm}: trains a character-level {@link GPT} on the bundled tiny Shakespeare
 * (first 90 % for training, last 10 % held out), with AdamW (decay on matrices only), global
 * gradient-norm clipping and a cosine schedule with warm-up, as nanoGPT's
 * {@code train_shakespeare_char}; prints the training and validation loss at intervals with a
 * progress bar, the validation loss over the whole held-out text at the end, and a generated
 * sample. The blocks run as one chain under the {@code --checkpoint} policy.
 */
public final class LmCommand {

    static final String USAGE_TEXT = """
            usage: adjoint lm [options]

            Trains a character-level GPT on the bundled tiny Shakespeare (1,115,394
            characters, 65 distinct; the first 90% for training, the last 10% held out),
            then prints the validation loss over the whole held-out text and a sample.
            Default: 4 layers, 4 heads, width 128, context 64, batch 12, 2,000 iterations
            of AdamW at lr 0.001, no dropout (published: about 1.88 nats/char).

            model:
              --layers N        transformer blocks (default 4)
              --heads N         attention heads, dividing the width (default 4)
              --embed N         width (default 128)
              --context N       characters per window, the position table (default 64)
              --dropout P       after embeddings, attention and MLP (default 0)
              --attention-dropout P
                                of the attention weights in training, as nanoGPT's
                                attn_dropout (default 0: the fused attention; above 0
                                the heads' T x T weights are composed and held)
            training:
              --batch N         windows per iteration (default 12)
              --iters N         iterations (default 2000; 0 only evaluates and samples)
              --lr F            peak learning rate (default 0.001)
              --min-lr F        the cosine's floor (default lr/10)
              --warmup N        iterations of linear warm-up (default 100, at most iters-1)
              --weight-decay F  AdamW decay of weights and embeddings, not of biases and
                                norms (default 0.1)
              --grad-clip F     clip the global gradient norm to F, 0 for none (default 1)
              --checkpoint P    the blocks' policy: none (default), every:K, sqrt,
                                binomial:C or budget:BYTES; same losses, less memory
              --seed N          seed of the weights, batches, dropout and sample (default 42)
              --backend B       cpu or cuda (default: the best one available)
            evaluation and output:
              --eval-interval N print losses every N iterations (default 250)
              --eval-batches N  random batches per loss estimate (default 20)
              --sample N        characters to generate at the end (default 500, 0 for none)
              --temperature F   of the sample (default 0.8)
              --top-k N         draw among the N likeliest characters, 0 for all (default 200)
              --prompt TEXT     the sample's start (default a newline)
              --plot FILE.png   training and validation loss curves
              --save FILE       the trained parameters, safetensors format
              --load FILE       start from parameters saved by --save (same model options)
              --json            print only one JSON object on standard output, at the end
              --quiet           only the summary
              -h, --help        print this help
            """;

    /**
     * What to train and how.
     *
     * @param layers        transformer blocks
     * @param heads         attention heads
     * @param embed         width
     * @param context       characters per window
     * @param dropout       dropout probability
     * @param attentionDropout probability of dropping an attention weight in training
     * @param batch         windows per iteration
     * @param iterations    training iterations
     * @param learningRate  peak learning rate
     * @param minRate       the cosine's floor, or NaN for a tenth of the peak
     * @param warmup        warm-up iterations
     * @param weightDecay   decoupled decay of the matrices
     * @param gradClip      global norm to clip to, 0 for none
     * @param checkpoint    the blocks' policy
     * @param seed          seed of everything random
     * @param backend       {@code cpu}, {@code cuda} or {@code null} for automatic selection
     * @param evalInterval  iterations between loss estimates
     * @param evalBatches   random batches per estimate
     * @param sample        characters to generate
     * @param temperature   of the sample
     * @param topK          of the sample, 0 for all
     * @param prompt        the sample's start
     * @param plot          PNG for the curves, or {@code null}
     * @param save          where to save the parameters, or {@code null}
     * @param load          where to load them from, or {@code null}
     * @param json          print one JSON object only
     * @param quiet         print only the summary
     */
    public record Options(int layers, int heads, int embed, int context, float dropout, float attentionDropout,
                          int batch, int iterations,
                          float learningRate, float minRate, int warmup, float weightDecay, float gradClip,
                          CheckpointPolicy checkpoint, long seed, String backend, int evalInterval, int evalBatches,
                          int sample, float temperature, int topK, String prompt, Path plot, Path save, Path load,
                          boolean json, boolean quiet) {

        /**
         * The defaults of the command line.
         *
         * @return nanoGPT's small CPU configuration of {@code train_shakespeare_char}
         */
        public static Options defaults() {
            return new Options(4, 4, 128, 64, 0f, 0f, 12, 2000, 1e-3f, Float.NaN, 100, 0.1f, 1f, CheckpointPolicy.none(),
                    42, null, 250, 20, 500, 0.8f, 200, "\n", null, null, null, false, false);
        }
    }

    /**
     * One loss estimate.
     *
     * @param iteration     iterations done
     * @param trainLoss     mean cross-entropy over random training batches
     * @param valLoss       mean cross-entropy over random held-out batches
     * @param millisPerIter mean iteration time since the previous estimate
     */
    public record Point(int iteration, double trainLoss, double valLoss, double millisPerIter) {
    }

    /**
     * The outcome of a run.
     *
     * @param options        what ran
     * @param parameters     trainable scalars
     * @param curve          the estimates at each interval
     * @param trainLoss      the last estimate of the training loss
     * @param valLoss        mean cross-entropy over the whole held-out text, in nats per character
     * @param msPerIteration mean wall time of a training iteration
     * @param peakSavedBytes the most activation bytes the blocks held at once for a backward pass
     * @param sample         the generated text (without the prompt)
     * @param seconds        wall time of the whole run
     * @param backend        the backend's description
     */
    public record Result(Options options, long parameters, List<Point> curve, double trainLoss, double valLoss,
                         double msPerIteration, long peakSavedBytes, String sample, double seconds, String backend) {

        /**
         * Copies the list.
         *
         * @param options        what ran
         * @param parameters     trainable scalars
         * @param curve          the estimates
         * @param trainLoss      the last training estimate
         * @param valLoss        the held-out loss
         * @param msPerIteration mean iteration time
         * @param peakSavedBytes peak saved activation bytes
         * @param sample         the generated text
         * @param seconds        wall time
         * @param backend        the backend
         */
        public Result {
            curve = List.copyOf(curve);
        }
    }

    private LmCommand() {
    }

    /**
     * Parses the options, trains and prints; errors in the command line are reported on
     * {@code err} with the usage.
     *
     * @param args the options after {@code lm}
     * @param out  where the progress, the summary or the JSON object goes
     * @param err  where errors go
     * @return the exit code: {@link Main#OK}, {@link Main#FAILED} or {@link Main#USAGE}
     * @throws org.adjoint.backend.OutOfMemoryException when memory runs out; {@link Main#run} reports it
     */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        return CommandLine.run("lm", USAGE_TEXT, args, out, err, LmCommand::parse, Options::backend,
                options -> train(options, out, options.json() ? Progress.Mode.QUIET : Progress.detect(options.quiet())),
                result -> {
                    if (result.options().json()) {
                        out.println(json(result));
                    }
                });
    }

    /**
     * Reads the command line.
     *
     * @param args the options after {@code lm}
     * @return the options, defaults where not given
     * @throws UsageException naming an unknown option, a missing value or a bad one
     */
    static Options parse(List<String> args) {
        Options d = Options.defaults();
        int layers = d.layers();
        int heads = d.heads();
        int embed = d.embed();
        int context = d.context();
        float dropout = d.dropout();
        float attentionDropout = d.attentionDropout();
        int batch = d.batch();
        int iterations = d.iterations();
        float learningRate = d.learningRate();
        float minRate = d.minRate();
        int warmup = d.warmup();
        boolean warmupGiven = false;
        float weightDecay = d.weightDecay();
        float gradClip = d.gradClip();
        CheckpointPolicy checkpoint = d.checkpoint();
        long seed = d.seed();
        String backend = d.backend();
        int evalInterval = d.evalInterval();
        int evalBatches = d.evalBatches();
        int sample = d.sample();
        float temperature = d.temperature();
        int topK = d.topK();
        String prompt = d.prompt();
        Path plot = d.plot();
        Path save = d.save();
        Path load = d.load();
        boolean json = d.json();
        boolean quiet = d.quiet();
        CommandLine line = new CommandLine(args, Set.of("--json", "--quiet"), Set.of("--layers", "--heads", "--embed",
                "--context", "--dropout", "--attention-dropout", "--batch", "--iters", "--lr", "--min-lr", "--warmup", "--weight-decay",
                "--grad-clip", "--checkpoint", "--seed", "--backend", "--eval-interval", "--eval-batches", "--sample",
                "--temperature", "--top-k", "--prompt", "--plot", "--save", "--load"));
        while (line.next()) {
            switch (line.name()) {
                case "--layers" -> layers = line.intAtLeast(1);
                case "--heads" -> heads = line.intAtLeast(1);
                case "--embed" -> embed = line.intAtLeast(1);
                case "--context" -> context = line.intAtLeast(1);
                case "--dropout" -> dropout = line.floatIn(0f, 1f, false);
                case "--attention-dropout" -> attentionDropout = line.floatIn(0f, 1f, false);
                case "--batch" -> batch = line.intAtLeast(1);
                case "--iters" -> iterations = line.intAtLeast(0);
                case "--lr" -> learningRate = line.positiveFloat();
                case "--min-lr" -> minRate = line.floatIn(0f, Float.MAX_VALUE, true);
                case "--warmup" -> {
                    warmup = line.intAtLeast(0);
                    warmupGiven = true;
                }
                case "--weight-decay" -> weightDecay = line.floatIn(0f, Float.MAX_VALUE, true);
                case "--grad-clip" -> gradClip = line.floatIn(0f, Float.MAX_VALUE, true);
                case "--checkpoint" -> checkpoint = line.policy();
                case "--seed" -> seed = line.longValue();
                case "--backend" -> backend = line.backend();
                case "--eval-interval" -> evalInterval = line.intAtLeast(1);
                case "--eval-batches" -> evalBatches = line.intAtLeast(1);
                case "--sample" -> sample = line.intAtLeast(0);
                case "--temperature" -> temperature = line.positiveFloat();
                case "--top-k" -> topK = line.intAtLeast(0);
                case "--prompt" -> prompt = line.value();
                case "--plot" -> plot = Path.of(line.value());
                case "--save" -> save = Path.of(line.value());
                case "--load" -> load = Path.of(line.value());
                case "--json" -> json = true;
                case "--quiet" -> quiet = true;
                default -> throw new AssertionError(line.name());
            }
        }
        if (embed % heads != 0) {
            throw new UsageException("option --heads " + heads + " does not divide --embed " + embed
                    + " (each head gets embed/heads dimensions)");
        }
        if (!Float.isNaN(minRate) && minRate > learningRate) {
            throw new UsageException("option --min-lr " + minRate + " is above --lr " + learningRate);
        }
        if (iterations > 0 && warmup >= iterations) {
            if (warmupGiven) {
                throw new UsageException("option --warmup " + warmup + " needs fewer iterations than --iters "
                        + iterations);
            }
            warmup = iterations - 1; // the default warm-up shrinks to fit a short run
        }
        if (prompt.isEmpty() && sample > 0) {
            throw new UsageException("option --prompt needs at least one character");
        }
        if ((long) batch * context > Integer.MAX_VALUE - 8) {
            throw new UsageException("options --batch " + batch + " and --context " + context
                    + " make a batch of more than " + (Integer.MAX_VALUE - 8) + " tokens");
        }
        if ((long) prompt.length() + sample > Integer.MAX_VALUE - 8) {
            throw new UsageException("option --sample " + sample + " with a prompt of " + prompt.length()
                    + " characters makes more than " + (Integer.MAX_VALUE - 8) + " tokens");
        }
        CommandLine.checkWritable("--save", save, false);
        CommandLine.checkWritable("--plot", plot, true);
        CommandLine.checkReadable("--load", load);
        CommandLine.checkPlotApart(plot, save, load);
        return new Options(layers, heads, embed, context, dropout, attentionDropout, batch, iterations, learningRate,
                minRate, warmup, weightDecay, gradClip, checkpoint, seed, backend, evalInterval, evalBatches, sample,
                temperature, topK, prompt, plot, save, load, json, quiet);
    }

    /**
     * Trains on the current backend and prints the progress.
     *
     * @param options  what to train and how
     * @param out      where the header, the estimates, the summary and the sample go (nothing
     *                 with {@code --json}: the caller prints the object)
     * @param progress how to show progress
     * @return the figures
     */
    public static Result train(Options options, PrintStream out, Progress.Mode progress) {
        long start = System.nanoTime();
        TextData data = TextData.shakespeare();
        if (options.context() >= data.validation().length) {
            throw new UsageException("option --context " + options.context() + " does not fit the "
                    + data.validation().length + " held-out characters");
        }
        // The prompt matters only to a sample; checked before training, so a bad one costs nothing.
        int[] prompt;
        try {
            prompt = options.sample() > 0 ? data.encode(options.prompt()) : new int[0];
        } catch (IllegalArgumentException e) {
            throw new UsageException("option --prompt: " + e.getMessage());
        }
        GPT.Config config = new GPT.Config(data.vocabularySize(), options.context(), options.embed(), options.layers(),
                options.heads(), options.dropout(), options.attentionDropout());
        GPT model = new GPT(config, options.seed());
        String architecture = String.format(Locale.ROOT, "GPT (%d layer%s, %d head%s, width %d, context %d)",
                options.layers(), options.layers() == 1 ? "" : "s", options.heads(), options.heads() == 1 ? "" : "s",
                options.embed(), options.context());
        String plotTitle = "Adjoint: " + architecture + " on " + data.name();
        if (options.load() != null) {
            Map<String, Tensor> saved = SafeTensors.load(options.load());
            try {
                model.loadStateDict(saved);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(options.load() + " does not fit " + architecture
                        + "; pass the --layers, --heads, --embed and --context it was trained with. " + e.getMessage(), e);
            }
        }
        // A tenth of the rate as written (0.001 gives 1.0E-4, not the float quotient 1.00000005E-4).
        float minRate = Float.isNaN(options.minRate())
                ? new java.math.BigDecimal(Float.toString(options.learningRate())).divide(java.math.BigDecimal.TEN).floatValue()
                : options.minRate();
        AdamW optimizer = AdamW.grouped(ParameterGroup.byRank(model.parameters(), options.weightDecay()),
                options.learningRate(), 0.9f, 0.99f, 1e-8f);
        LearningRateSchedule schedule = options.iterations() == 0 ? null
                : new CosineDecay(options.learningRate(), minRate, options.iterations(), options.warmup());
        String backend = TrainCommand.describe(Backends.current());
        boolean talk = progress != Progress.Mode.QUIET;
        if (talk) {
            out.printf(Locale.ROOT, "training %s, %,d parameters, on %s: %,d training / %,d held-out characters, "
                            + "%d distinct%n", architecture, model.parameterCount(), data.name(), data.train().length,
                    data.validation().length, data.vocabularySize());
            out.printf(Locale.ROOT, "AdamW lr %s (warm-up %d, cosine to %s), weight decay %s, clip %s, batch %d, "
                            + "%d iterations, dropout %s%s, checkpoint %s, seed %d, backend %s%n",
                    options.learningRate(), options.warmup(), minRate, options.weightDecay(),
                    options.gradClip() > 0 ? options.gradClip() : "none", options.batch(), options.iterations(),
                    options.dropout(), options.attentionDropout() > 0f
                            ? " (attention weights " + options.attentionDropout() + ")" : "",
                    options.checkpoint(), options.seed(), backend);
        }

        RandomState.set(options.seed());
        SplittableRandom batches = new SplittableRandom(options.seed());
        CheckpointMeter meter = new CheckpointMeter();
        Progress display = new Progress(out, progress, "interval");
        List<Point> curve = new ArrayList<>();
        int intervals = Math.max(1, (options.iterations() + options.evalInterval() - 1) / options.evalInterval());
        int width = Integer.toString(options.iterations()).length();
        long trainNanos = 0;
        long intervalNanos = 0;
        double lossSum = 0;
        int inInterval = 0;
        for (int iteration = 0; iteration < options.iterations(); iteration++) {
            if (inInterval == 0) {
                int interval = iteration / options.evalInterval();
                display.startEpoch(interval + 1, intervals,
                        Math.min(options.evalInterval(), options.iterations() - iteration));
                lossSum = 0;
                intervalNanos = 0;
            }
            long stepStart = System.nanoTime();
            schedule.apply(optimizer, iteration);
            optimizer.zeroGrad();
            model.train(true);
            TextData.Windows w = TextData.windows(data.train(), options.batch(), options.context(), batches);
            Tensor loss = model.loss(w.inputs(), w.targets(), w.batch(), w.context(), options.checkpoint(), meter);
            loss.backward();
            if (options.gradClip() > 0) {
                GradientClipping.clipGradNormTensor(optimizer.parameters(), options.gradClip());
            }
            optimizer.step();
            // item() waits for the device, so the time covers the work, not its launch.
            float value = loss.item();
            long nanos = System.nanoTime() - stepStart;
            trainNanos += nanos;
            intervalNanos += nanos;
            if (!Float.isFinite(value)) {
                String finished = curve.isEmpty() ? null
                        : "the " + curve.size() + " evaluation" + (curve.size() == 1 ? "" : "s") + " so far";
                throw CommandLine.diverged(String.format(Locale.ROOT,
                        "the loss became %s at iteration %d; lower the learning rate (--lr, now %s)", value,
                        iteration + 1, options.learningRate()), options.plot(), finished,
                        () -> writePlot(options.plot(), plotTitle, curve));
            }
            lossSum += value;
            inInterval++;
            display.step(inInterval, lossSum / inInterval);
            boolean last = iteration + 1 == options.iterations();
            if (inInterval == options.evalInterval() || last) {
                double[] estimate = estimate(model, data, options, iteration + 1);
                Point point = new Point(iteration + 1, estimate[0], estimate[1], intervalNanos / 1e6 / inInterval);
                curve.add(point);
                display.endEpoch(String.format(Locale.ROOT,
                        "iteration %" + width + "d/%d  train loss %.4f  val loss %.4f  lr %.2e  %.1f ms/iteration",
                        point.iteration(), options.iterations(), point.trainLoss(), point.valLoss(),
                        optimizer.learningRate(), point.millisPerIter()));
                inInterval = 0;
            }
        }
        double trainLoss = curve.isEmpty() ? estimate(model, data, options, 0)[0] : curve.getLast().trainLoss();
        double valLoss = heldOutLoss(model, data, options.context());
        // Written before the sample is drawn: a sample that fails (a --sample too long for the
        // memory) must not lose the trained parameters. Said below, where the summary puts them.
        CommandLine.writeAll(() -> {
            if (options.save() != null) {
                Map<String, String> metadata = new LinkedHashMap<>();
                metadata.put("format", "adjoint");
                metadata.put("model", String.format(Locale.ROOT,
                        "gpt layers=%d heads=%d embed=%d context=%d vocabulary=%d", options.layers(), options.heads(),
                        options.embed(), options.context(), data.vocabularySize()));
                metadata.put("data", data.name());
                metadata.put("val_loss", String.format(Locale.ROOT, "%.4f", valLoss));
                SafeTensors.save(options.save(), model.stateDict(), metadata);
            }
        }, () -> {
            if (options.plot() != null) {
                writePlot(options.plot(), plotTitle, curve);
            }
        });
        String sample = "";
        if (options.sample() > 0) {
            sample = data.decode(model.generate(prompt, options.sample(), options.temperature(), options.topK(),
                    options.seed()));
        }
        double msPerIteration = options.iterations() == 0 ? 0 : trainNanos / 1e6 / options.iterations();
        Result result = new Result(options, model.parameterCount(), curve, trainLoss, valLoss, msPerIteration,
                meter.peakSavedBytes(), sample, (System.nanoTime() - start) / 1e9, backend);
        if (!options.json()) {
            out.printf(Locale.ROOT, "validation loss %.4f nats/char over all %,d predicted held-out characters after %d "
                    + "iteration%s (last training estimate %.4f)%n", valLoss, data.validation().length - 1,
                    options.iterations(), options.iterations() == 1 ? "" : "s", trainLoss);
            out.printf(Locale.ROOT, "%.1f ms/iteration, peak saved activations %s (checkpoint %s), total %.1f s, "
                    + "backend %s%n", msPerIteration, TrainCommand.bytes(result.peakSavedBytes()), options.checkpoint(),
                    result.seconds(), backend);
            if (options.save() != null) {
                out.println("parameters saved to " + options.save());
            }
            if (options.plot() != null) {
                out.println("plot written to " + options.plot());
            }
        }
        if (!options.json() && options.sample() > 0) {
            out.printf(Locale.ROOT, "sample (%d characters, temperature %s, top-k %d, seed %d):%n%s%s%n",
                    options.sample(), options.temperature(), options.topK(), options.seed(), options.prompt(), sample);
        }
        return result;
    }

    /** The loss curve, train and validation, at each evaluation. */
    private static void writePlot(Path plot, String title, List<Point> curve) {
        List<double[]> points = new ArrayList<>();
        for (Point p : curve) {
            points.add(new double[] {p.iteration(), p.trainLoss(), p.valLoss()});
        }
        LossPlot.writeLosses(plot, title, points);
    }

    /**
     * Training and validation loss over {@code --eval-batches} random batches of each part, in
     * evaluation mode, without a tape; the batches come from a generator of their own (seeded
     * by the iteration), so estimating does not change the training batches.
     */
    private static double[] estimate(GPT model, TextData data, Options options, int iteration) {
        model.train(false);
        SplittableRandom random = new SplittableRandom(options.seed() * 31 + iteration);
        double[] losses = new double[2];
        try (var _ = GradMode.noGrad()) {
            int[][] parts = {data.train(), data.validation()};
            for (int p = 0; p < 2; p++) {
                double sum = 0;
                for (int b = 0; b < options.evalBatches(); b++) {
                    TextData.Windows w = TextData.windows(parts[p], options.batch(), options.context(), random);
                    sum += model.loss(w.inputs(), w.targets(), w.batch(), w.context()).item();
                }
                losses[p] = sum / options.evalBatches();
            }
        }
        model.train(true);
        return losses;
    }

    /**
     * The mean cross-entropy over every character of the held-out text that has a predecessor:
     * consecutive windows of {@code context} characters (the last one shorter), each
     * predicting its next characters, so each position sees what precedes it within its window.
     */
    static double heldOutLoss(GPT model, TextData data, int context) {
        model.train(false);
        int[] text = data.validation();
        int windows = (text.length - 1) / context;
        int perBatch = Math.max(1, 65536 / context);
        double sum = 0;
        long count = 0;
        try (var _ = GradMode.noGrad()) {
            for (int first = 0; first < windows; first += perBatch) {
                int n = Math.min(perBatch, windows - first);
                int[] inputs = new int[n * context];
                int[] targets = new int[n * context];
                for (int w = 0; w < n; w++) {
                    System.arraycopy(text, (first + w) * context, inputs, w * context, context);
                    System.arraycopy(text, (first + w) * context + 1, targets, w * context, context);
                }
                sum += (double) model.loss(inputs, targets, n, context).item() * n * context;
                count += (long) n * context;
            }
            int rest = text.length - 1 - windows * context;
            if (rest > 0) {
                int[] inputs = java.util.Arrays.copyOfRange(text, windows * context, windows * context + rest);
                int[] targets = java.util.Arrays.copyOfRange(text, windows * context + 1, windows * context + rest + 1);
                sum += (double) model.loss(inputs, targets, 1, rest).item() * rest;
                count += rest;
            }
        }
        model.train(true);
        return sum / count;
    }

    /**
     * The result as one JSON object on one line.
     *
     * @param r the figures
     * @return the object
     */
    static String json(Result r) {
        Options o = r.options();
        StringBuilder curve = new StringBuilder("[");
        for (Point p : r.curve()) {
            curve.append(curve.length() == 1 ? "" : ",").append(String.format(Locale.ROOT,
                    "{\"iteration\":%d,\"trainLoss\":%s,\"valLoss\":%s,\"msPerIteration\":%s}", p.iteration(),
                    CheckpointReport.jsonNumber(p.trainLoss()), CheckpointReport.jsonNumber(p.valLoss()),
                    CheckpointReport.jsonNumber(p.millisPerIter())));
        }
        curve.append(']');
        return String.format(Locale.ROOT, "{\"iterations\":%d,\"parameters\":%d,\"trainLoss\":%s,\"valLoss\":%s,"
                        + "\"msPerIteration\":%s,\"peakSavedBytes\":%d,\"sample\":%s,\"layers\":%d,\"heads\":%d,"
                        + "\"embed\":%d,\"context\":%d,\"batch\":%d,\"dropout\":%s,\"attentionDropout\":%s,"
                        + "\"learningRate\":%s,\"checkpoint\":%s,\"seed\":%d,\"backend\":%s,\"seconds\":%s,\"curve\":%s}",
                o.iterations(), r.parameters(), CheckpointReport.jsonNumber(r.trainLoss()),
                CheckpointReport.jsonNumber(r.valLoss()), CheckpointReport.jsonNumber(r.msPerIteration()),
                r.peakSavedBytes(), CheckpointReport.jsonString(r.sample()), o.layers(), o.heads(), o.embed(),
                o.context(), o.batch(), CheckpointReport.jsonNumber(o.dropout()),
                CheckpointReport.jsonNumber(o.attentionDropout()), CheckpointReport.jsonNumber(o.learningRate()),
                CheckpointReport.jsonString(o.checkpoint().toString()),
                o.seed(), CheckpointReport.jsonString(r.backend()), CheckpointReport.jsonNumber(r.seconds()), curve);
    }
}
