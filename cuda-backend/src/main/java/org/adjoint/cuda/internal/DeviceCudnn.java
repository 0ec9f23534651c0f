package org.adjoint.cuda.internal;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * cuDNN on one {@link CudaDevice}: loaded and checked on the first convolution, trusted once
 * the trial convolutions pass, its fallbacks counted, and its convolutions run with a
 * workspace from the device's caching allocator. The device calls it only under its lock;
 * {@code enter} makes the device's context current before any cuDNN call.
 */
final class DeviceCudnn {

    private static final Logger LOG = Logger.getLogger("org.adjoint.cuda.CudaBackend");

    private final int ordinal;
    private final CudnnUse use;
    private final Blas blas;
    private final Driver.Stream stream;
    private final boolean tf32;
    private final CachingAllocator allocator;
    private final Runnable enter;
    /** cuDNN's convolutions, or {@code null}: the im2col path. */
    private ForeignCudnn cudnn;
    /** The convolution path, as the log line says it; after a failed trial, why not cuDNN. */
    private String convolution;
    /** Whether cuDNN has been looked for (once per device, on the first convolution). */
    private boolean loaded;
    /** Whether the trial convolutions have run (once per device, on first use). */
    private boolean tried;
    /** Convolutions that cuDNN was trusted with but that took the im2col path. */
    private long fallbacks;
    /** The kinds of fallback already logged. */
    private final Set<String> loggedFallbacks = new HashSet<>();

    DeviceCudnn(int ordinal, CudnnUse use, Blas blas, Driver.Stream stream, boolean tf32, CachingAllocator allocator,
                Runnable enter) {
        this.ordinal = ordinal;
        this.use = use;
        this.blas = blas;
        this.stream = stream;
        this.tf32 = tf32;
        this.allocator = allocator;
        this.enter = enter;
        // cuDNN's parts (hundreds of MB of engines) are mapped only when a convolution asks for them.
        this.convolution = use == CudnnUse.OFF ? "im2col + cuBLAS (cuDNN: off, -D" + CudnnUse.PROPERTY + "=false)"
                : "cuDNN checked on first convolution";
        this.loaded = use == CudnnUse.OFF;
    }

    /** See {@link CudaDevice#convolutionPath()}. */
    String path() {
        return convolution;
    }

    /** See {@link CudaDevice#cudnnRefusal}; {@code trial} runs on the device. */
    String refusal(Supplier<String> trial) {
        if (!loaded) {
            enter.run();
            convolution = load();
            loaded = true;
            String path = convolution;
            LOG.info(() -> "Adjoint CUDA convolutions on device " + ordinal + ": " + path);
        }
        if (cudnn != null && !tried) {
            String failure;
            try {
                failure = trial.get();
            } catch (CudnnException e) {
                failure = e.getMessage();
            }
            // Only a trial that ran to its end counts: after any other exception (the kernels
            // did not compile, say) cuDNN is not yet trusted, and the next call tries again.
            tried = true;
            if (failure != null) {
                refuse("the trial convolutions failed: " + failure);
            }
        }
        return cudnn == null ? convolution : null;
    }

    /**
     * Loads and opens cuDNN (on the first convolution, unless {@code -Dadjoint.cuda.cudnn=false}):
     * only a cuDNN {@value CudnnLibrary#MAJOR} built for the CUDA major of the cuBLAS in use, looked
     * for first in the cuBLAS's folder; never fails: without cuDNN the convolutions take the
     * im2col path, or, under {@code require}, throw.
     *
     * @return the convolution path, for the log line
     */
    private String load() {
        String fallback = "im2col + cuBLAS (cuDNN: ";
        String required = use == CudnnUse.REQUIRE
                ? "; convolutions throw, since -D" + CudnnUse.PROPERTY + "=require)" : ")";
        try {
            CudnnLibrary functions = CudnnLibrary.load(blas.cudaMajor(), blas.libraryFolder());
            ForeignCudnn opened = ForeignCudnn.open(functions, stream.address(), tf32);
            String description;
            try {
                description = opened.description();
            } catch (RuntimeException e) {
                try {
                    opened.close();
                } catch (RuntimeException s) {
                    e.addSuppressed(s);
                }
                throw e;
            }
            this.cudnn = opened;
            return description + (use == CudnnUse.REQUIRE ? ", required" : "");
        } catch (RuntimeException | LinkageError e) {
            return fallback + NativeErrors.summary(e) + required;
        }
    }

    private void refuse(String reason) {
        String why = reason;
        List<String> parts = cudnn.library().companionFailures();
        if (!parts.isEmpty()) {
            why += "; its parts that did not load: " + String.join("; ", parts);
        }
        enter.run();
        try {
            cudnn.close();
        } catch (RuntimeException e) {
            why += "; closing cuDNN failed too: " + e.getMessage();
        }
        cudnn = null;
        convolution = "im2col + cuBLAS (cuDNN: " + why + ")";
        String path = convolution;
        LOG.warning(() -> "Adjoint CUDA backend on device " + ordinal + ": cuDNN is not used; convolution: " + path);
    }

    /** See {@link CudaDevice#noteCudnnFallback}. */
    void noteFallback(String kind, String reason) {
        fallbacks++;
        if (loggedFallbacks.add(kind)) {
            LOG.warning(() -> "Adjoint CUDA backend on device " + ordinal + ": " + reason + "; the call took the im2col"
                    + " path (logged once per kind; CudaBackend.cudnnFallbacks() counts them)");
        }
    }

    /** See {@link CudaDevice#cudnnFallbacks()}. */
    long fallbacks() {
        return fallbacks;
    }

    /** See {@link CudaDevice#convolve}. */
    String convolve(CudnnShape.Direction direction, CudnnShape shape, CudaBuffer first, CudaBuffer second,
                    CudaBuffer result) {
        if (cudnn == null) {
            throw new IllegalStateException("cuda: cuDNN is not loaded: " + convolution);
        }
        enter.run();
        try (ForeignCudnn.Call call = cudnn.prepare(direction, shape)) {
            if (call.candidates() == 0) {
                return call.refusal();
            }
            int settled = call.settled();
            int from = settled < 0 ? 0 : settled;
            int to = settled < 0 ? call.candidates() : settled + 1;
            StringBuilder tooLarge = new StringBuilder();
            long smallestFailed = Long.MAX_VALUE;
            for (int i = from; i < to; i++) {
                long bytes = call.workspaceBytes(i);
                // The workspace first: taking it may hand back blocks that cleaners freed, and the
                // operands' addresses are read after, so none of them can be such a block.
                long workspace = bytes == 0 || bytes >= smallestFailed ? 0 : allocator.tryAllocate(bytes);
                if (bytes != 0 && workspace == 0) {
                    smallestFailed = Math.min(smallestFailed, bytes);
                    tooLarge.append(tooLarge.isEmpty() ? "" : "; ").append("algorithm ").append(call.algorithm(i))
                            .append(" needs ").append(bytes).append(" bytes");
                    continue;
                }
                try {
                    cudnn.run(call, i, first.address(), second.address(), result.address(), workspace);
                } finally {
                    // One stream: whoever takes the block next queues behind this convolution.
                    if (workspace != 0) {
                        allocator.free(workspace);
                    }
                }
                return null;
            }
            return settled < 0
                    ? "no workspace of " + direction.call + "'s algorithms fits in device memory (" + tooLarge + ")"
                    : "the workspace of " + direction.call + "'s algorithm for " + shape + ", chosen on its first"
                            + " run, does not fit in device memory now (" + tooLarge + "); no other algorithm is"
                            + " taken, so that the shape's results stay the same";
        }
    }
}
