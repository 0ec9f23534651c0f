package org.adjoint.bench.gpu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Backends;
import org.adjoint.backend.Buffer;
import org.adjoint.checkpoint.CheckpointMeter;
import org.adjoint.checkpoint.CheckpointPolicy;
import org.adjoint.checkpoint.Sequential;
import org.adjoint.cuda.CudaBackend;
import org.adjoint.cuda.DeviceMemoryStats;
import org.adjoint.nn.Activation;
import org.adjoint.nn.Layer;
import org.adjoint.nn.Linear;
import org.adjoint.nn.Losses;
import org.adjoint.optim.SGD;

/**
 * The CUDA backend's figures for the GPU issue, printed as one JSON object: SGEMM 4096³
 * (device-resident operands), the MLP step at 784-1024-1024-1024-10 / batch 256 and at
 * 4096-4096-4096-4096-10 / batch 4096 (fused layers, cross-entropy, SGD), and a 32-layer
 * tanh chain of width 2048 at batch 1024 under several checkpoint policies with the device's
 * peak memory (from the caching allocator) next to the meter's peak saved bytes.
 * {@code bench/gpu/run.sh} runs it on the device next to the PyTorch peer.
 *
 * <p>Timing: every figure is the median of timed repetitions after warm-up, each ended by a
 * device synchronisation, so it covers the work and not only its launch.
 */
public final class GpuBench {

    private GpuBench() {
    }

    /**
     * Runs everything on the CUDA backend and prints the JSON.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        CudaBackend cuda = (CudaBackend) Backends.use("cuda");
        StringBuilder json = new StringBuilder("{");
        json.append(String.format(Locale.ROOT, "\"device\": \"%s\", ", cuda.deviceName()));
        json.append(String.format(Locale.ROOT, "\"sgemm4096_tflops\": %.3f, ", sgemm(cuda, 4096) / 1e12));
        json.append(String.format(Locale.ROOT, "\"mlp_small_ms\": %.3f, ",
                mlpStep(cuda, new int[] {784, 1024, 1024, 1024, 10}, 256)));
        json.append(String.format(Locale.ROOT, "\"mlp_large_ms\": %.3f, ",
                mlpStep(cuda, new int[] {4096, 4096, 4096, 4096, 10}, 4096)));
        json.append("\"checkpoint\": [");
        String[] policies = {"none", "sqrt", "binomial:4", "every:8"};
        for (int i = 0; i < policies.length; i++) {
            json.append(i == 0 ? "" : ", ").append(checkpoint(cuda, CheckpointPolicy.parse(policies[i]), policies[i]));
        }
        json.append("]}");
        System.out.println(json);
    }

    /** Floating-point operations per second of {@code C = A·B}, n × n × n. */
    static double sgemm(CudaBackend cuda, int n) {
        SplittableRandom random = new SplittableRandom(1);
        float[] host = new float[n * n];
        for (int i = 0; i < host.length; i++) {
            host[i] = (float) random.nextDouble(-1, 1);
        }
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

    /** Milliseconds of one forward + backward + SGD step of an MLP with ReLU hidden layers. */
    static double mlpStep(Backend backend, int[] widths, int batch) {
        SplittableRandom random = new SplittableRandom(7);
        int classes = widths[widths.length - 1];
        int[] labels = new int[batch];
        for (int row = 0; row < batch; row++) {
            labels[row] = random.nextInt(classes);
        }
        Tensor inputs = Tensor.randn(random.nextLong(), batch, widths[0]);
        List<Linear> layers = new ArrayList<>();
        List<Tensor> parameters = new ArrayList<>();
        for (int layer = 0; layer + 1 < widths.length; layer++) {
            Activation activation = layer + 2 < widths.length ? Activation.RELU : Activation.IDENTITY;
            Linear linear = new Linear(widths[layer], widths[layer + 1], activation, random.nextLong());
            layers.add(linear);
            parameters.addAll(linear.parameters());
        }
        SGD sgd = new SGD(parameters, 0.01f);
        double[] millis = new double[20];
        for (int r = -5; r < millis.length; r++) {
            long start = System.nanoTime();
            sgd.zeroGrad();
            Tensor h = inputs;
            for (Linear layer : layers) {
                h = layer.apply(h);
            }
            Tensor loss = Losses.crossEntropy(h, labels);
            loss.backward();
            sgd.step();
            loss.item(); // waits for the device
            if (r >= 0) {
                millis[r] = (System.nanoTime() - start) / 1e6;
            }
        }
        if (backend instanceof CudaBackend cuda) {
            cuda.emptyCache();
        }
        return median(millis);
    }

    /** One training step of a tanh chain under a policy: device peak bytes, meter peak, time. */
    static String checkpoint(CudaBackend cuda, CheckpointPolicy policy, String name) {
        int layersCount = 32;
        int width = 2048;
        int batch = 1024;
        List<Layer> layers = new ArrayList<>();
        for (int i = 0; i < layersCount; i++) {
            layers.add(new Linear(width, width, Activation.TANH, 100 + i));
        }
        Sequential chain = new Sequential(layers);
        Tensor input = Tensor.randn(5, batch, width);
        double[] millis = new double[5];
        long devicePeak = 0;
        long meterPeak = 0;
        for (int r = -2; r < millis.length; r++) {
            chain.zeroGrad();
            cuda.synchronize();
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
                + "\"step_ms\": %.3f}", name, devicePeak, meterPeak, median(millis));
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
