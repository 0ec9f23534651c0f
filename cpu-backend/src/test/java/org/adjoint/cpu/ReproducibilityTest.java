package org.adjoint.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

import org.adjoint.Tensor;
import org.adjoint.backend.Backends;
import org.adjoint.kernels.KernelProvider;
import org.adjoint.kernels.ScalarKernels;
import org.adjoint.kernels.VectorKernels;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Losses;
import org.adjoint.optim.Adam;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What a seed reproduces on the CPU backend, checked on the raw bits of every step's loss and
 * of every parameter after training, each run in a JVM of its own: for one kernel provider and
 * one vector width, the same seed gives the same bits in two fresh JVMs, interpreted
 * ({@code -Xint}) or compiled, with 1 or 3 kernel threads, and with either register tile. The
 * suite runs once per provider (see the module's pom), and each run checks its own provider.
 *
 * <p>The model touches every reduction a training step has: a linear layer with tanh, a
 * row-centring {@code h − mean(h, axis 1)} (the gradient of a broadcast column is a sum along
 * a row), ReLU, the logits' cross-entropy plus an entropy term built from softmax, log-softmax
 * and a sum over everything, and a max along rows; Adam updates the parameters.
 */
class ReproducibilityTest {

    private static final String PROVIDER = System.getProperty("adjoint.expected.kernels", "vector");
    /** Small enough to train in an interpreted JVM in a few seconds. */
    private static final Config SMALL = new Config(19, new int[] {41, 27, 19, 10}, 8);
    /**
     * Every layer but the last past 2^22 multiply-adds, so that its products are split between
     * threads; the first one's 520 inputs are more than one block of k (512), so its product
     * accumulates into C, and its 64 rows are not a whole number of the 12-row tile.
     */
    private static final Config WIDE = new Config(64, new int[] {520, 261, 263, 10}, 5);
    private static final long SEED = 7;

    /** Runs already made in this suite, by command line: several tests compare against the same run. */
    private static final Map<List<String>, Run> RUNS = new HashMap<>();
    private static Path directory;
    private static int runs;

    /**
     * A model and its training length.
     *
     * @param batch  rows per step
     * @param widths layer widths, input first
     * @param steps  training steps
     */
    record Config(int batch, int[] widths, int steps) {

        List<String> arguments() {
            return List.of(Integer.toString(batch), Arrays.toString(widths).replaceAll("[\\[\\] ]", ""),
                    Integer.toString(steps));
        }
    }

    /**
     * The raw bits of one training run.
     *
     * @param losses     each step's loss
     * @param parameters every parameter after the last step, in the model's order, flattened
     */
    record Run(int[] losses, int[] parameters) {
    }

    @BeforeAll
    static void createDirectory() throws IOException {
        directory = Files.createTempDirectory("adjoint-reproducibility");
    }

    @AfterAll
    static void deleteDirectory() throws IOException {
        try (var files = Files.list(directory)) {
            for (Path file : files.toList()) {
                Files.delete(file);
            }
        }
        Files.delete(directory);
    }

    @Test
    void theSameSeedInTwoFreshJvmsGivesTheSameBits() {
        Run first = train(SMALL, SEED, 0, List.of());
        assertSameBits(first, run(SMALL, SEED, 0, List.of()), "a second fresh JVM");
        // The comparison can see a difference: another seed gives other bits.
        assertFalse(Arrays.equals(first.parameters(), train(SMALL, SEED + 1, 0, List.of()).parameters()),
                "seeds " + SEED + " and " + (SEED + 1) + " trained the same parameters");
    }

    @Test
    void interpretedAndCompiledRunsGiveTheSameBits() {
        Run interpreted = train(SMALL, SEED, 0, List.of("-Xint"));
        assertSameBits(interpreted, train(SMALL, SEED, 0, List.of()), "a fresh JVM that compiles as it goes");
        // Warmed up first on another seed, so that C2 has compiled the kernels before the run.
        assertSameBits(interpreted, train(SMALL, SEED, 200, List.of()), "a JVM warmed up by 200 steps");
        assertSameBits(interpreted, train(SMALL, SEED, 0, List.of("-XX:TieredStopAtLevel=1")), "C1 only");
    }

    @Test
    void theThreadCountDoesNotChangeTheBits() {
        assertSameBits(train(WIDE, SEED, 0, List.of("-Dadjoint.cpu.threads=1")),
                train(WIDE, SEED, 0, List.of("-Dadjoint.cpu.threads=3")), "3 kernel threads against 1");
    }

    @Test
    void theRegisterTileDoesNotChangeTheBits() {
        assumeTrue(PROVIDER.equals("vector"), "the register tiles are the vector provider's");
        assertSameBits(train(WIDE, SEED, 0, List.of("-Dadjoint.cpu.tileRows=4")),
                train(WIDE, SEED, 0, List.of("-Dadjoint.cpu.tileRows=12")), "the 12-row tile against the 4-row one");
    }

    @Test
    void aWiderVectorIsReproducibleToo() {
        assumeTrue(PROVIDER.equals("vector"), "the vector width is the vector provider's");
        Run interpreted = train(SMALL, SEED, 0, List.of("-Xint", "-Dadjoint.cpu.vectorBits=512"));
        assertSameBits(interpreted, train(SMALL, SEED, 0, List.of("-Dadjoint.cpu.vectorBits=512")),
                "512-bit vectors, -Xint against compiled");
    }

    private static void assertSameBits(Run expected, Run actual, String what) {
        compare(expected.losses(), actual.losses(), what, "the loss of step ");
        compare(expected.parameters(), actual.parameters(), what, "parameter element ");
    }

    private static void compare(int[] expected, int[] actual, String what, String element) {
        assertEquals(expected.length, actual.length, what + ": lengths");
        int differs = Arrays.mismatch(expected, actual);
        if (differs >= 0) {
            throw new AssertionError(PROVIDER + " kernels, " + what + ": " + element + differs + " is "
                    + describe(actual[differs]) + " where the first run has " + describe(expected[differs]));
        }
    }

    private static String describe(int bits) {
        return String.format(Locale.ROOT, "%08x (%s)", bits, Float.intBitsToFloat(bits));
    }

    /** The run of {@link #run}, made once per suite for each configuration and reused. */
    private static Run train(Config config, long seed, int warmUp, List<String> jvmOptions) {
        List<String> key = new ArrayList<>(jvmOptions);
        key.addAll(List.of(Long.toString(seed), Integer.toString(warmUp)));
        key.addAll(config.arguments());
        Run run = RUNS.get(key);
        if (run == null) {
            run = run(config, seed, warmUp, jvmOptions);
            RUNS.put(key, run);
        }
        return run;
    }

    /** Trains in a new child JVM with the given options. */
    private static Run run(Config config, long seed, int warmUp, List<String> jvmOptions) {
        List<String> options = new ArrayList<>(List.of("--add-modules=jdk.incubator.vector"));
        options.addAll(jvmOptions);
        List<String> arguments = new ArrayList<>(List.of(PROVIDER, Long.toString(seed), Integer.toString(warmUp)));
        arguments.addAll(config.arguments());
        Path output = directory.resolve("run-" + runs++ + ".bin");
        arguments.add(output.toString());
        ChildJvm.Result result = ChildJvm.run(options, Train.class, arguments.toArray(String[]::new));
        if (result.exitCode() != 0) {
            throw new AssertionError("training JVM " + options + " " + arguments + " failed (exit " + result.exitCode()
                    + "):\n" + result.output());
        }
        return read(output);
    }

    private static Run read(Path file) {
        try (InputStream stream = Files.newInputStream(file); DataInputStream in = new DataInputStream(stream)) {
            int[] losses = new int[in.readInt()];
            for (int i = 0; i < losses.length; i++) {
                losses[i] = in.readInt();
            }
            int[] parameters = new int[in.readInt()];
            for (int i = 0; i < parameters.length; i++) {
                parameters[i] = in.readInt();
            }
            return new Run(losses, parameters);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Trains the model and writes the raw bits of the losses and parameters. Arguments: provider
     * ({@code vector} or {@code scalar}), seed, warm-up steps (trained first on another model,
     * so that the JIT has compiled the kernels), batch, comma-separated widths, steps, output file.
     */
    static final class Train {

        private Train() {
        }

        public static void main(String[] args) throws IOException {
            // Not KernelProvider.named: it refuses the vector provider without C2, and -Xint is the point.
            KernelProvider kernels = args[0].equals("vector") ? VectorKernels.INSTANCE : ScalarKernels.INSTANCE;
            Backends.use(new CpuBackend(kernels));
            long seed = Long.parseLong(args[1]);
            int warmUp = Integer.parseInt(args[2]);
            int batch = Integer.parseInt(args[3]);
            int[] widths = Arrays.stream(args[4].split(",")).mapToInt(Integer::parseInt).toArray();
            int steps = Integer.parseInt(args[5]);
            if (warmUp > 0) {
                train(seed + 1000, batch, widths, warmUp);
            }
            float[] losses = new float[steps];
            List<Tensor> parameters = train(seed, batch, widths, steps, losses);
            try (OutputStream file = Files.newOutputStream(Path.of(args[6]));
                 DataOutputStream out = new DataOutputStream(file)) {
                out.writeInt(losses.length);
                for (float loss : losses) {
                    out.writeInt(Float.floatToRawIntBits(loss));
                }
                int total = parameters.stream().mapToInt(p -> (int) p.size()).sum();
                out.writeInt(total);
                for (Tensor p : parameters) {
                    for (float v : p.toFloatArray()) {
                        out.writeInt(Float.floatToRawIntBits(v));
                    }
                }
            }
        }

        private static void train(long seed, int batch, int[] widths, int steps) {
            train(seed, batch, widths, steps, new float[steps]);
        }

        private static List<Tensor> train(long seed, int batch, int[] widths, int steps, float[] losses) {
            Linear first = new Linear(widths[0], widths[1], Activation.TANH, seed);
            Linear second = new Linear(widths[1], widths[2], Activation.RELU, seed + 1);
            Linear last = new Linear(widths[2], widths[3], Activation.IDENTITY, seed + 2);
            List<Tensor> parameters = new ArrayList<>(first.parameters());
            parameters.addAll(second.parameters());
            parameters.addAll(last.parameters());
            Adam optimizer = new Adam(parameters, 1e-2f);
            SplittableRandom random = new SplittableRandom(seed);
            int batches = 3;
            Tensor[] inputs = new Tensor[batches];
            int[][] labels = new int[batches][];
            for (int b = 0; b < batches; b++) {
                inputs[b] = Tensor.randn(random.nextLong(), batch, widths[0]);
                labels[b] = random.ints(batch, 0, widths[3]).toArray();
            }
            for (int step = 0; step < steps; step++) {
                optimizer.zeroGrad();
                Tensor h = first.apply(inputs[step % batches]);
                h = second.apply(h.sub(h.mean(1, true)));
                Tensor logits = last.apply(h);
                Tensor entropy = logits.softmax(1).mul(logits.logSoftmax(1)).sum().mul(-0.01f / batch);
                Tensor loss = Losses.crossEntropy(logits, labels[step % batches]).add(entropy)
                        .add(h.max(1, false).mean().mul(1e-3f));
                loss.backward();
                optimizer.step();
                losses[step] = loss.item();
            }
            return parameters;
        }
    }
}
