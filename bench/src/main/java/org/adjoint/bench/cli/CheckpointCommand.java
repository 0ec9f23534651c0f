package org.adjoint.bench.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.adjoint.Tensor;
import org.adjoint.backend.Backends;
import org.adjoint.checkpoint.CheckpointMeter;
import org.adjoint.checkpoint.CheckpointPolicy;
import org.adjoint.checkpoint.Planner;
import org.adjoint.checkpoint.Schedule;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Layer;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Sequential;
import org.adjoint.optim.SGD;

/**
 * {@code adjoint checkpoint}: one training step (forward, loss, backward) of a chain of
 * {@code N} layers {@code h -> tanh(h·W + b)} under a {@link CheckpointPolicy} and under
 * {@code none}, reporting for each the checkpoint slots, the layer forward calls, the peak of
 * saved activation bytes (from a {@link CheckpointMeter}) and the step time, and the largest
 * difference of any parameter gradient between the two.
 */
public final class CheckpointCommand {

    static final String USAGE_TEXT = """
            usage: adjoint checkpoint [options]

            Runs one training step (forward, loss, backward) of a chain of N layers
            h -> tanh(h·W + b) under a checkpoint policy and under 'none' (store everything),
            and reports both: checkpoint slots, layer forward calls (first pass and
            recomputation), peak bytes of activations saved for the backward pass, step time,
            and the largest difference of any parameter gradient against 'none'.
            Layer i's weights come from seed + i, the input [B, W] from seed + N, and the
            loss is sum(output * P) for a fixed random P [B, W] from seed + N + 1.

            Step time: the median of --runs timed steps of each policy, after --warmup untimed
            steps of each (for the JIT); timed steps of the two policies alternate.

            options:
              --layers N        layers in the chain (default 64)
              --width W         features of every layer (default 512)
              --batch B         rows of the input (default 256)
              --policy P        none, every:K, sqrt, binomial:C or budget:BYTES (default sqrt)
              --json            print one JSON object on standard output instead of a report
              --seed S          seed of the weights, the input and the loss (default 42)
              --backend B       cpu or cuda (default: the best one available)
              --warmup N        untimed steps of each policy before timing (default 3)
              --runs N          timed steps of each policy; the median is reported (default 9)
              -h, --help        print this help
            """;

    /**
     * What to run.
     *
     * @param layers  chain length
     * @param width   features of every layer
     * @param batch   rows of the input
     * @param policy  the policy as given on the command line
     * @param json    print JSON instead of a report
     * @param seed    seed of the weights, the input and the loss projection
     * @param backend {@code cpu} or {@code cuda}, or {@code null} for automatic selection
     * @param warmup  untimed steps of each policy before timing
     * @param runs    timed steps of each policy
     */
    public record Options(int layers, int width, int batch, String policy, boolean json, long seed, String backend,
                          int warmup, int runs) {

        /**
         * The defaults of the command line: the 64-layer chain of the README.
         *
         * @return 64 layers of width 512, batch 256, policy {@code sqrt}, a report, seed 42,
         *         automatic backend, 3 warm-up and 9 timed steps
         */
        public static Options defaults() {
            return new Options(64, 512, 256, "sqrt", false, 42, null, 3, 9);
        }
    }

    /**
     * The figures of one policy.
     *
     * @param policy            the policy
     * @param slots             checkpoint slots its plan uses (the chain input not counted)
     * @param plannedPeakBytes  the plan's own prediction of the peak (each tape as two layer outputs)
     * @param layerForwardCalls layer forward calls of one step, as the meter counted them
     * @param peakSavedBytes    most activation bytes held at once in one step, as the meter saw them
     * @param stepMillis        median wall time of the timed steps
     * @param runMillis         wall time of each timed step, in order
     */
    public record PolicyRun(CheckpointPolicy policy, int slots, long plannedPeakBytes, long layerForwardCalls,
                            long peakSavedBytes, double stepMillis, List<Double> runMillis) {

        /**
         * Copies the list.
         *
         * @param policy            the policy
         * @param slots             checkpoint slots of the plan
         * @param plannedPeakBytes  the plan's predicted peak
         * @param layerForwardCalls layer forward calls of one step
         * @param peakSavedBytes    peak of saved activation bytes in one step
         * @param stepMillis        median step time
         * @param runMillis         each timed step's wall time
         */
        public PolicyRun {
            runMillis = List.copyOf(runMillis);
        }
    }

    /**
     * The outcome of a run.
     *
     * @param options             what was run
     * @param backend             name of the backend that ran it
     * @param checkpointed        the figures under the requested policy
     * @param storeAll            the figures under {@code none}
     * @param maxAbsGradDiff      largest absolute difference of any parameter gradient between the two
     * @param maxAbsInputGradDiff largest absolute difference of the input gradient between the two
     * @param parameterTensors    how many parameter tensors were compared
     */
    public record Result(Options options, String backend, PolicyRun checkpointed, PolicyRun storeAll,
                         double maxAbsGradDiff, double maxAbsInputGradDiff, int parameterTensors) {
    }

    private CheckpointCommand() {
    }

    /**
     * Parses the options, runs both policies and prints the report or the JSON object; errors
     * in the command line (a policy that does not parse or cannot be planned included) are
     * reported on {@code err} with the usage.
     *
     * @param args the options after {@code checkpoint}
     * @param out  where the report or the JSON object goes
     * @param err  where errors go
     * @return the exit code: {@link Main#OK}, {@link Main#FAILED} or {@link Main#USAGE}
     * @throws org.adjoint.backend.OutOfMemoryException when memory runs out; {@link Main#run} reports it
     */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        return CommandLine.run("checkpoint", USAGE_TEXT, args, out, err, CheckpointCommand::parse, Options::backend,
                CheckpointCommand::measure, result -> {
                    if (result.options().json()) {
                        out.println(CheckpointReport.json(result));
                    } else {
                        CheckpointReport.print(result, out);
                    }
                });
    }

    /**
     * Reads the command line: {@code --name value} or {@code --name=value} for each option,
     * and {@code --json} alone. The policy is parsed and planned for the chain here, so that
     * a bad one is a command-line error.
     *
     * @param args the options after {@code checkpoint}
     * @return the options, defaults where not given
     * @throws UsageException naming an unknown option, a missing value or a bad one
     */
    static Options parse(List<String> args) {
        Options defaults = Options.defaults();
        int layers = defaults.layers();
        int width = defaults.width();
        int batch = defaults.batch();
        String policy = defaults.policy();
        boolean json = defaults.json();
        long seed = defaults.seed();
        String backend = defaults.backend();
        int warmup = defaults.warmup();
        int runs = defaults.runs();
        CommandLine line = new CommandLine(args, Set.of("--json"), Set.of("--layers", "--width", "--batch",
                "--policy", "--seed", "--backend", "--warmup", "--runs"));
        while (line.next()) {
            switch (line.name()) {
                case "--json" -> json = true;
                case "--layers" -> layers = line.intAtLeast(1);
                case "--width" -> width = line.intAtLeast(1);
                case "--batch" -> batch = line.intAtLeast(1);
                case "--policy" -> policy = line.value();
                case "--seed" -> seed = line.longValue();
                case "--backend" -> backend = line.backend();
                case "--warmup" -> warmup = line.intAtLeast(0);
                case "--runs" -> runs = line.intAtLeast(1);
                default -> throw new AssertionError(line.name());
            }
        }
        // Tensors are indexed by int: W is [width, width], the input and every activation [batch, width].
        // The largest a buffer can hold is Integer.MAX_VALUE - 8 elements (Shapes' limit, as lm's check).
        long limit = Integer.MAX_VALUE - 8;
        if ((long) width * width > limit || (long) batch * width > limit) {
            throw new UsageException("options --width " + width + " and --batch " + batch
                    + " make tensors of more than " + limit + " elements");
        }
        CheckpointPolicy parsed;
        try {
            parsed = CheckpointPolicy.parse(policy);
        } catch (IllegalArgumentException e) {
            throw new UsageException("option --policy: " + e.getMessage());
        }
        // The policy as the library spells it (" SQRT" is "sqrt"), for the report and the JSON.
        policy = parsed.toString();
        Options options = new Options(layers, width, batch, policy, json, seed, backend, warmup, runs);
        try {
            plan(options, parsed);
        } catch (IllegalArgumentException e) {
            throw new UsageException("option --policy '" + policy + "': " + e.getMessage());
        }
        return options;
    }

    /**
     * The plan the chain will run: a stored layer output is {@code [batch, width]} floats, and
     * the fused tanh layer's tape saves its input and its output, two of them. These are the
     * bytes the chain itself measures on its first layer before planning; {@link #measure}
     * checks that the plan's forward calls match the meter's, which they would not if the
     * chain had planned with other sizes.
     */
    private static Schedule plan(Options options, CheckpointPolicy policy) {
        long slotBytes = 4L * options.batch() * options.width();
        return Planner.plan(options.layers(), slotBytes, 2 * slotBytes, policy);
    }

    /**
     * Builds the chain and runs the warm-up and timed steps of both policies on the current
     * backend.
     *
     * @param options what to run
     * @return the figures
     * @throws IllegalArgumentException when the policy does not parse or cannot be planned
     * @throws IllegalStateException    when a step made other forward calls than its plan, or
     *                                  left a parameter without a gradient
     */
    public static Result measure(Options options) {
        CheckpointPolicy policy = CheckpointPolicy.parse(options.policy());
        CheckpointPolicy none = CheckpointPolicy.none();
        Schedule plan = plan(options, policy);
        Schedule storeAllPlan = plan(options, none);

        List<Layer> layers = new ArrayList<>(options.layers());
        for (int i = 0; i < options.layers(); i++) {
            layers.add(new Linear(options.width(), options.width(), Activation.TANH, options.seed() + i));
        }
        Step step = new Step(new Sequential(layers),
                Tensor.randn(options.seed() + options.layers(), options.batch(), options.width()).requiresGrad(true),
                Tensor.randn(options.seed() + options.layers() + 1, options.batch(), options.width()));

        for (int i = 0; i < options.warmup(); i++) {
            step.run(policy, plan);
            step.run(none, storeAllPlan);
        }
        // Alternating the two policies spreads drift (frequency, other load) over both alike.
        List<Double> millis = new ArrayList<>();
        List<Double> storeAllMillis = new ArrayList<>();
        CheckpointMeter meter = null;
        CheckpointMeter storeAllMeter = null;
        Gradients gradients = null;
        Gradients storeAllGradients = null;
        for (int i = 0; i < options.runs(); i++) {
            // Gradients are copied from the last pair of steps only: 64 layers' worth of copies
            // per step would be garbage that the collector then spends the timed steps on.
            boolean last = i == options.runs() - 1;
            meter = step.run(policy, plan);
            millis.add(step.lastMillis);
            if (last) {
                gradients = step.gradients(policy);
            }
            storeAllMeter = step.run(none, storeAllPlan);
            storeAllMillis.add(step.lastMillis);
            if (last) {
                storeAllGradients = step.gradients(none);
            }
        }
        return new Result(options, Backends.current().name(),
                new PolicyRun(policy, plan.slots(), plan.predictedPeakBytes(), meter.layerForwardCalls(),
                        meter.peakSavedBytes(), median(millis), millis),
                new PolicyRun(none, storeAllPlan.slots(), storeAllPlan.predictedPeakBytes(),
                        storeAllMeter.layerForwardCalls(), storeAllMeter.peakSavedBytes(), median(storeAllMillis),
                        storeAllMillis),
                maxAbsDiff(gradients.parameters(), storeAllGradients.parameters()),
                maxAbsDiff(List.of(gradients.input()), List.of(storeAllGradients.input())),
                gradients.parameters().size());
    }

    /** Parameter and input gradients of one step, copied to the host. */
    private record Gradients(List<float[]> parameters, float[] input) {
    }

    /** The chain, its input and the loss projection; runs one metered, timed step. */
    private static final class Step {
        private final Sequential chain;
        private final List<Tensor> parameters;
        private final Tensor input;
        private final Tensor projection;
        private final SGD zeroing;
        private double lastMillis;

        Step(Sequential chain, Tensor input, Tensor projection) {
            this.chain = chain;
            this.parameters = chain.parameters();
            this.input = input;
            this.projection = projection;
            List<Tensor> leaves = new ArrayList<>(parameters);
            leaves.add(input);
            // Used for zeroGrad() only: it zeroes gradients in place, as a training loop does,
            // so that no step after the first allocates 64 layers' worth of gradient arrays.
            this.zeroing = new SGD(leaves, 1f);
        }

        CheckpointMeter run(CheckpointPolicy policy, Schedule plan) {
            zeroing.zeroGrad();
            CheckpointMeter meter = new CheckpointMeter();
            long start = System.nanoTime();
            Tensor loss = chain.apply(input, policy, meter).mul(projection).sum();
            loss.backward();
            // item() waits for the device, so the time covers the work, not its launch.
            loss.item();
            lastMillis = (System.nanoTime() - start) / 1e6;
            if (meter.layerForwardCalls() != plan.forwardCalls()) {
                throw new IllegalStateException("policy " + policy + ": the plan for " + plan.layers()
                        + " layers predicted " + plan.forwardCalls() + " layer forward calls but the chain made "
                        + meter.layerForwardCalls() + "; the chain planned with other byte sizes than this command");
            }
            return meter;
        }

        Gradients gradients(CheckpointPolicy policy) {
            List<float[]> grads = new ArrayList<>(parameters.size());
            for (int i = 0; i < parameters.size(); i++) {
                grads.add(hostGrad(parameters.get(i), "parameter " + i, policy));
            }
            return new Gradients(grads, hostGrad(input, "the input", policy));
        }

        private static float[] hostGrad(Tensor leaf, String what, CheckpointPolicy policy) {
            Tensor grad = leaf.grad();
            if (grad == null) {
                throw new IllegalStateException("policy " + policy + ": " + what + " got no gradient");
            }
            return grad.toFloatArray();
        }
    }

    /** Largest {@code |a − b|} over all elements; identical bits count as 0 (NaN included). */
    private static double maxAbsDiff(List<float[]> a, List<float[]> b) {
        double max = 0;
        for (int t = 0; t < a.size(); t++) {
            float[] x = a.get(t);
            float[] y = b.get(t);
            for (int i = 0; i < x.length; i++) {
                if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i])) {
                    double diff = Math.abs((double) x[i] - y[i]);
                    max = Double.isNaN(diff) ? Double.POSITIVE_INFINITY : Math.max(max, diff);
                }
            }
        }
        return max;
    }

    private static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
