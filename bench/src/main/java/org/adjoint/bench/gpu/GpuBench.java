package org.adjoint.bench.gpu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import org.adjoint.Tensor;
import org.adjoint.backend.Backends;
import org.adjoint.backend.Buffer;
import org.adjoint.bench.MlpWorkload;
import org.adjoint.bench.UniformData;
import org.adjoint.checkpoint.CheckpointMeter;
import org.adjoint.checkpoint.CheckpointPolicy;
import org.adjoint.cuda.CudaBackend;
import org.adjoint.cuda.DeviceMemoryStats;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Conv2d;
import org.adjoint.nn.Flatten;
import org.adjoint.nn.Layer;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Losses;
import org.adjoint.nn.MaxPool2d;
import org.adjoint.nn.ReLU;
import org.adjoint.nn.Sequential;
import org.adjoint.optim.Adam;
import org.adjoint.optim.SGD;

/**
 * The CUDA backend's figures for the GPU issue, printed as one JSON object: SGEMM 4096³
 * (device-resident operands), the MLP step at 784-1024-1024-1024-10 / batch 256 and at
 * 4096-4096-4096-4096-10 / batch 4096 (fused layers, cross-entropy, SGD), and a 32-layer
 * tanh chain of width 2048 at batch 1024 under several checkpoint policies with the device's
 * peak memory (from the caching allocator) next to the meter's peak saved bytes. It also times
 * the two reductions of a step (the large MLP's bias gradient, and a full sum of the same
 * matrix), since those are the backend's own kernels rather than cuBLAS; and the training step
 * of {@code adjoint train --model cnn}'s network at batch 64 (through cuDNN where it loads; run
 * again with {@code -Dadjoint.cuda.cudnn=false} for the im2col path's figure). Each figure is
 * written to standard error as soon as it is measured.
 * {@code bench/gpu/run.sh} runs it on the device next to the PyTorch peer
 * ({@code bench/gpu/torch_peer.py}, which prints the same keys).
 *
 * <p>System properties: {@value #SMALL_PROPERTY}{@code =true} swaps every size for a toy one
 * (a dry run of the scripts on the fake driver libraries, where only the plumbing is under
 * test); {@value #SGEMM_PROPERTY}{@code =N} sets the SGEMM size alone;
 * {@code adjoint.gpubench.warmupMillis} (default 2000) is the least time each MLP and the CNN
 * warm up before they are timed; {@value #ONLY_PROPERTY}{@code =cnn,sgemm} runs only the named
 * workloads (of {@code sgemm, reductions, mlp_small, mlp_large, cnn, checkpoint}).
 *
 * <p>Timing: every figure is the median of timed repetitions after warm-up, each ended by a
 * device synchronisation, so it covers the work and not only its launch.
 */
public final class GpuBench {

    /** System property: {@code true} runs every workload at toy sizes. */
    public static final String SMALL_PROPERTY = "adjoint.gpubench.small";
    /** System property: the SGEMM's n (default 4096, or 64 with {@value #SMALL_PROPERTY}). */
    public static final String SGEMM_PROPERTY = "adjoint.gpubench.sgemm";

    private static final long WARM_UP_NANOS = Long.getLong("adjoint.gpubench.warmupMillis", 2000) * 1_000_000;
    private static final String[] POLICIES = {"none", "sqrt", "binomial:4", "every:8"};
    /** System property: a comma-separated list of the workloads to run (default all of {@link #WORKLOADS}). */
    public static final String ONLY_PROPERTY = "adjoint.gpubench.only";
    /** The workloads, in the order they run and their JSON keys. */
    static final List<String> WORKLOADS = List.of("sgemm", "reductions", "mlp_small", "mlp_large", "cnn", "checkpoint");

    /**
     * The workloads' sizes.
     *
     * @param name        {@code issue} or {@code small}, echoed in the JSON
     * @param sgemm       n of the n × n × n product
     * @param smallMlp    layer widths of the small MLP, input first
     * @param smallBatch  its batch
     * @param largeMlp    layer widths of the large MLP
     * @param largeBatch  its batch
     * @param chainLayers layers of the checkpointed tanh chain
     * @param chainWidth  their width
     * @param chainBatch  the chain's batch
     * @param cnnBatch    the CNN step's batch
     */
    record Sizes(String name, int sgemm, int[] smallMlp, int smallBatch, int[] largeMlp, int largeBatch,
                 int chainLayers, int chainWidth, int chainBatch, int cnnBatch) {

        /** The sizes the CUDA issue names; the CNN at {@code adjoint train}'s batch. */
        static final Sizes ISSUE = new Sizes("issue", 4096, new int[] {784, 1024, 1024, 1024, 10}, 256,
                new int[] {4096, 4096, 4096, 4096, 10}, 4096, 32, 2048, 1024, 64);
        /** Toy sizes: a run on the fake driver, whose kernels are plain C loops. */
        static final Sizes SMALL = new Sizes("small", 64, new int[] {24, 32, 32, 32, 10}, 16,
                new int[] {48, 64, 64, 64, 10}, 32, 16, 32, 256, 2);

        static Sizes fromProperties() {
            Sizes base = Boolean.getBoolean(SMALL_PROPERTY) ? SMALL : ISSUE;
            int sgemm = Integer.getInteger(SGEMM_PROPERTY, base.sgemm);
            if (sgemm <= 0) {
                throw new IllegalArgumentException("-D" + SGEMM_PROPERTY + "=" + sgemm + ": the size must be positive");
            }
            return new Sizes(base.name, sgemm, base.smallMlp, base.smallBatch, base.largeMlp, base.largeBatch,
                    base.chainLayers, base.chainWidth, base.chainBatch, base.cnnBatch);
        }
    }

    private GpuBench() {
    }

    /**
     * Runs everything on the CUDA backend and prints the JSON.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        Sizes sizes = Sizes.fromProperties();
        Set<String> only = workloads();
        CudaBackend cuda = (CudaBackend) Backends.use("cuda");
        StringBuilder json = new StringBuilder("{");
        json.append(String.format(Locale.ROOT, "\"device\": \"%s\", \"sizes\": \"%s\", \"tf32\": %b, "
                + "\"convolution\": \"%s\"", cuda.deviceName(), sizes.name(), Boolean.getBoolean("adjoint.cuda.tf32"),
                cuda.convolutionPath().replace("\\", "\\\\").replace("\"", "\\\"")));
        if (only.contains("sgemm")) {
            String sgemm = String.format(Locale.ROOT, "{\"n\": %d, \"tflops\": %.3f}", sizes.sgemm(),
                    sgemm(cuda, sizes.sgemm()) / 1e12);
            json.append(", \"sgemm\": ").append(progress("sgemm", sgemm));
        }
        if (only.contains("reductions")) {
            json.append(", \"reductions\": ").append(progress("reductions", reductions(cuda, sizes.largeBatch(),
                    sizes.largeMlp()[1])));
        }
        if (only.contains("mlp_small")) {
            json.append(", \"mlp_small\": ").append(progress("mlp_small", mlp(cuda, sizes.smallMlp(),
                    sizes.smallBatch())));
        }
        if (only.contains("mlp_large")) {
            json.append(", \"mlp_large\": ").append(progress("mlp_large", mlp(cuda, sizes.largeMlp(),
                    sizes.largeBatch())));
        }
        if (only.contains("cnn")) {
            json.append(", \"cnn\": ").append(progress("cnn", cnn(cuda, sizes.cnnBatch())));
        }
        if (only.contains("checkpoint")) {
            json.append(String.format(Locale.ROOT, ", \"checkpoint\": {\"layers\": %d, \"width\": %d, \"batch\": %d, "
                    + "\"policies\": [", sizes.chainLayers(), sizes.chainWidth(), sizes.chainBatch()));
            for (int i = 0; i < POLICIES.length; i++) {
                json.append(i == 0 ? "" : ", ").append(progress("checkpoint", checkpoint(cuda, sizes, POLICIES[i])));
            }
            json.append("]}");
        }
        json.append("}");
        System.out.println(json);
    }

    /** The workloads {@value #ONLY_PROPERTY} names, all of them when it is not set. */
    private static Set<String> workloads() {
        String value = System.getProperty(ONLY_PROPERTY, String.join(",", WORKLOADS));
        Set<String> names = new LinkedHashSet<>();
        for (String name : value.split(",")) {
            String workload = name.strip();
            if (!WORKLOADS.contains(workload)) {
                throw new IllegalArgumentException("-D" + ONLY_PROPERTY + "=" + value + ": " + workload
                        + " is not one of " + WORKLOADS);
            }
            names.add(workload);
        }
        return names;
    }

    /**
     * Milliseconds of one training step of {@code adjoint train --model cnn}'s network
     * (conv 1→32, ReLU, pool, conv 32→64, ReLU, pool, 3,136→128 ReLU, 10; Adam at lr 1e-3) on
     * 28×28 images at a batch, and of the part spent queueing it. Which convolution path ran
     * (cuDNN or im2col) is the JSON's {@code convolution}; {@code -Dadjoint.cuda.cudnn=false} forces im2col,
     * and {@code cudnn_fallbacks} counts the convolutions (since the device opened) that cuDNN was
     * trusted with but that took the im2col path.
     */
    static String cnn(CudaBackend cuda, int batch) {
        Sequential network = new Sequential(new Conv2d(1, 32, 3, 1, 21), new ReLU(), new MaxPool2d(2),
                new Conv2d(32, 64, 3, 1, 22), new ReLU(), new MaxPool2d(2), new Flatten(),
                new Linear(64 * 7 * 7, 128, Activation.RELU, 23), new Linear(128, 10, 24));
        Adam adam = new Adam(network.parameters(), 1e-3f);
        Tensor images = Tensor.randn(25, batch, 1, 28, 28);
        int[] labels = new int[batch];
        SplittableRandom random = new SplittableRandom(26);
        for (int i = 0; i < batch; i++) {
            labels[i] = random.nextInt(10);
        }
        Supplier<Tensor> step = () -> {
            adam.zeroGrad();
            Tensor loss = Losses.crossEntropy(network.apply(images), labels);
            loss.backward();
            adam.step();
            return loss;
        };
        long warmUntil = System.nanoTime() + WARM_UP_NANOS;
        for (int r = 0; r < 5 || System.nanoTime() < warmUntil; r++) {
            step.get();
        }
        cuda.synchronize();
        double[] millis = new double[20];
        double[] enqueueMillis = new double[millis.length];
        for (int r = 0; r < millis.length; r++) {
            long start = System.nanoTime();
            Tensor loss = step.get();
            long queued = System.nanoTime();
            loss.item();
            millis[r] = (System.nanoTime() - start) / 1e6;
            enqueueMillis[r] = (queued - start) / 1e6;
        }
        cuda.emptyCache();
        return String.format(Locale.ROOT, "{\"batch\": %d, \"ms\": %.3f, \"enqueue_ms\": %.3f, \"cudnn_fallbacks\": %d}",
                batch, median(millis), median(enqueueMillis), cuda.cudnnFallbacks());
    }

    /** Writes one finished figure to the log at once, so a run cut short still shows what it measured. */
    private static String progress(String name, String figure) {
        System.err.println("GpuBench " + name + ": " + figure);
        System.err.flush();
        return figure;
    }

    /**
     * Milliseconds of the two reductions a training step makes: the bias gradient (rows × cols
     * summed over the rows) and a full sum of the same matrix.
     */
    static String reductions(CudaBackend cuda, int rows, int cols) {
        Buffer x = cuda.upload(UniformData.floats(Math.multiplyExact(rows, cols), 3));
        Buffer columns = cuda.allocate(cols);
        Buffer total = cuda.allocate(1);
        int[] shape = {rows, cols};
        double[] columnMillis = new double[10];
        double[] totalMillis = new double[10];
        for (int r = -3; r < columnMillis.length; r++) {
            cuda.synchronize();
            long start = System.nanoTime();
            cuda.sumTo(x, shape, columns, new int[] {0, 1});
            cuda.synchronize();
            long middle = System.nanoTime();
            cuda.sumTo(x, shape, total, new int[] {0, 0});
            cuda.synchronize();
            if (r >= 0) {
                columnMillis[r] = (middle - start) / 1e6;
                totalMillis[r] = (System.nanoTime() - middle) / 1e6;
            }
        }
        cuda.release(x);
        cuda.release(columns);
        cuda.release(total);
        return String.format(Locale.ROOT, "{\"rows\": %d, \"cols\": %d, \"sum_rows_ms\": %.3f, \"sum_all_ms\": %.3f}",
                rows, cols, median(columnMillis), median(totalMillis));
    }

    /** Floating-point operations per second of {@code C = A·B}, n × n × n. */
    static double sgemm(CudaBackend cuda, int n) {
        float[] host = UniformData.floats(Math.multiplyExact(n, n), 1);
        Buffer a = cuda.upload(host);
        Buffer b = cuda.upload(host);
        Buffer c = cuda.allocate((long) n * n);
        for (int i = 0; i < 3; i++) {
            cuda.gemm(false, false, 1, n, n, n, 1f, a, 0, b, 0, 0f, c, 0);
        }
        cuda.synchronize();
        double[] seconds = new double[10];
        for (int r = 0; r < seconds.length; r++) {
            long start = System.nanoTime();
            cuda.gemm(false, false, 1, n, n, n, 1f, a, 0, b, 0, 0f, c, 0);
            cuda.synchronize();
            seconds[r] = (System.nanoTime() - start) / 1e9;
        }
        cuda.release(a);
        cuda.release(b);
        cuda.release(c);
        return 2.0 * n * n * n / median(seconds);
    }

    /** The JSON of one MLP: its shape and the step's milliseconds. */
    private static String mlp(CudaBackend cuda, int[] widths, int batch) {
        double[] millis = mlpStep(cuda, widths, batch);
        return String.format(Locale.ROOT, "{\"widths\": [%s], \"batch\": %d, \"ms\": %.3f, \"enqueue_ms\": %.3f}",
                Arrays.stream(widths).mapToObj(Integer::toString).collect(Collectors.joining(", ")), batch, millis[0],
                millis[1]);
    }

    /**
     * Milliseconds of one forward + backward + SGD step of an MLP with ReLU hidden layers, and
     * of the part of it the host spends queueing the work (when the two are close, the host
     * is what limits the step).
     */
    static double[] mlpStep(CudaBackend cuda, int[] widths, int batch) {
        MlpWorkload mlp = MlpWorkload.create(widths, batch, 7);
        SGD sgd = new SGD(mlp.parameters(), 0.01f);
        // Warm-up by time as well as by count: the step's Java code must reach C2 before it is
        // timed, or a small step measures the interpreter rather than the backend.
        long warmUntil = System.nanoTime() + WARM_UP_NANOS;
        for (int r = 0; r < 5 || System.nanoTime() < warmUntil; r++) {
            mlp.step(sgd);
        }
        cuda.synchronize(); // the first timed step must not wait for queued warm-up work
        double[] millis = new double[20];
        double[] enqueueMillis = new double[millis.length];
        for (int r = 0; r < millis.length; r++) {
            long start = System.nanoTime();
            Tensor loss = mlp.step(sgd);
            long queued = System.nanoTime();
            loss.item(); // waits for the device
            millis[r] = (System.nanoTime() - start) / 1e6;
            enqueueMillis[r] = (queued - start) / 1e6;
        }
        cuda.emptyCache();
        return new double[] {median(millis), median(enqueueMillis)};
    }

    /** One training step of a tanh chain under a policy: device peak bytes, meter peak, time. */
    static String checkpoint(CudaBackend cuda, Sizes sizes, String policyName) {
        CheckpointPolicy policy = CheckpointPolicy.parse(policyName);
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < sizes.chainLayers(); i++) {
            layers.add(new Linear(sizes.chainWidth(), sizes.chainWidth(), Activation.TANH, 100 + i));
        }
        Sequential chain = new Sequential(layers);
        // An optimizer zeroes gradients in place (Module.zeroGrad drops them): after the warm-up
        // their blocks stay allocated, so the measured peak is what the policy changes, the
        // saved activations and recomputation, not the gradients every policy must hold.
        SGD gradients = new SGD(chain.parameters(), 0.01f); // never steps
        Tensor input = Tensor.randn(5, sizes.chainBatch(), sizes.chainWidth());
        double[] millis = new double[5];
        long devicePeak = 0;
        long meterPeak = 0;
        for (int r = -2; r < millis.length; r++) {
            gradients.zeroGrad();
            settle(cuda);
            cuda.resetPeakMemoryStats();
            DeviceMemoryStats before = cuda.memoryStats();
            CheckpointMeter meter = new CheckpointMeter();
            long start = System.nanoTime();
            chain.apply(input, policy, meter).sum().backward();
            cuda.synchronize();
            if (r >= 0) {
                millis[r] = (System.nanoTime() - start) / 1e6;
            }
            devicePeak = cuda.memoryStats().peakBytesInUse() - before.bytesInUse();
            meterPeak = meter.peakSavedBytes();
        }
        cuda.emptyCache();
        return String.format(Locale.ROOT, "{\"policy\": \"%s\", \"device_peak_bytes\": %d, \"meter_peak_saved_bytes\": %d, "
                + "\"step_ms\": %.3f}", policyName, devicePeak, meterPeak, median(millis));
    }

    /**
     * Lets the buffers of earlier steps that nobody released come back before a peak is
     * measured: their blocks return only when a collection finds them, and one returning in
     * the middle of the measured step would lower "in use" below its starting point.
     */
    private static void settle(CudaBackend cuda) {
        System.gc();
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        cuda.synchronize();
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
