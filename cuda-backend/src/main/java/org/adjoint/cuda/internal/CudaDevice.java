package org.adjoint.cuda.internal;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.logging.Logger;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;
import org.adjoint.cuda.DeviceMemoryStats;

/**
 * One GPU: CUDA context, the one stream every operation on it is queued on, device memory
 * (the driver's, through {@code DeviceMemory}, under a caching allocator), pinned staging for
 * transfers, cuBLAS, cuDNN (loaded, checked and trusted by {@code DeviceCudnn}) and the
 * compiled kernels. Opened once per process and ordinal (the first time anyone asks whether
 * it is available) and shared by every {@link org.adjoint.cuda.CudaBackend} on that ordinal.
 *
 * <p>Every public method takes this object's lock and makes the context current on the
 * calling thread. The lock also keeps buffers safe from their cleaners: a buffer found
 * unreachable goes back to the allocator only at the allocator's next call, which happens
 * under this lock, so a block is never reused between an operation reading its address and
 * the operation's work being queued; once queued, later users of the block queue behind it.
 */
public final class CudaDevice {

    private static final Logger LOG = Logger.getLogger("org.adjoint.cuda.CudaBackend");
    /** Per ordinal: the opened device, or the {@link UnavailableException} that says why it cannot be. */
    private static final Map<Integer, Object> OPENED = new HashMap<>();
    /** The device count once the driver initialised, or the {@link UnavailableException} that says why not. */
    private static Object driverState;

    private final int ordinal;
    private final String name;
    private final int major;
    private final int minor;
    private final int multiprocessors;
    private final boolean tf32;
    private final boolean poolRefused;
    private final boolean streamOrdered;
    private final CUdevice device;
    private final CUcontext context;
    private final Driver.Stream stream;
    /** Whether {@link #stream} was created, for a teardown after a failed open. */
    private boolean streamCreated;
    private final CachingAllocator allocator;
    private final LaunchGrid grid;
    private final HostStaging staging;
    private Blas blas;
    private Nvrtc nvrtc;
    /** What {@code -Dadjoint.cuda.cudnn} asks for. */
    private final CudnnUse cudnnUse;
    /** cuDNN's loading, trust and fallbacks on this device. */
    private DeviceCudnn cudnn;
    private CudaKernels kernels;
    private RuntimeException kernelFailure;

    private CudaDevice(int ordinal, CUdevice device) {
        this.ordinal = ordinal;
        // First: a value that is none of true, false, require makes the device unavailable before it holds anything.
        this.cudnnUse = CudnnUse.fromProperty();
        byte[] nameBytes = new byte[256];
        Driver.check(cuDeviceGetName(nameBytes, nameBytes.length, device), "cuDeviceGetName");
        int length = 0;
        while (length < nameBytes.length && nameBytes[length] != 0) {
            length++;
        }
        this.name = new String(nameBytes, 0, length, StandardCharsets.UTF_8);
        this.major = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        this.minor = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        this.multiprocessors = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        this.tf32 = CudaSettings.flag(CudaSettings.TF32_PROPERTY, false);
        this.poolRefused = !CudaSettings.flag(CudaSettings.POOL_PROPERTY, true);
        this.streamOrdered = !poolRefused
                && attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED) != 0;
        // The primary context is the one the CUDA runtime inside cuBLAS uses, so both share memory and streams.
        this.device = device;
        this.context = new CUcontext();
        Driver.check(cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        this.stream = new Driver.Stream();
        try {
            Driver.check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
            // Non-blocking: other libraries' work on the legacy default stream does not serialise with ours.
            Driver.check(cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
            streamCreated = true;
            this.staging = new HostStaging(stream);
        } catch (RuntimeException | Error e) {
            releaseAfter(e);
            throw e;
        }
        this.allocator = new CachingAllocator(new DeviceMemory(stream, streamOrdered),
                CudaDevice::collectUnreachableBuffers);
        this.grid = new LaunchGrid(multiprocessors);
    }

    /**
     * Gives back what a device that failed to open holds (its libraries' handles, the pinned
     * staging, the stream, the retained primary context, which keeps device memory), so that a
     * process that goes on without the GPU does not keep them; a failed release is added to
     * {@code failure}, suppressed. Nothing was allocated from the device yet.
     */
    private void releaseAfter(Throwable failure) {
        if (blas != null) {
            try {
                blas.close();
            } catch (RuntimeException e) {
                failure.addSuppressed(e);
            }
            blas = null;
        }
        if (staging != null) {
            staging.free(failure);
        }
        if (streamCreated) {
            streamCreated = false;
            Driver.release(cuStreamDestroy(stream), "cuStreamDestroy", failure);
        }
        Driver.release(cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease", failure);
    }

    private static int attribute(CUdevice device, int attribute) {
        int[] value = new int[1];
        Driver.check(cuDeviceGetAttribute(value, attribute, device), "cuDeviceGetAttribute(" + attribute + ")");
        return value[0];
    }

    /**
     * The device {@code -Dadjoint.cuda.device} names (default 0), opened on the first call.
     *
     * @return the device
     * @throws UnavailableException why there is none, the same reason on every call
     */
    public static synchronized CudaDevice shared() {
        int ordinal;
        try {
            ordinal = CudaSettings.deviceOrdinal();
        } catch (IllegalArgumentException e) {
            throw new UnavailableException(e.getMessage(), e);
        }
        return open(ordinal, true);
    }

    /**
     * The device of an ordinal, opened on the first call; every caller asking for one ordinal
     * gets the same device (one context, stream and memory cache per GPU).
     *
     * @param ordinal the CUDA device ordinal
     * @return the device
     * @throws UnavailableException why it cannot be used, the same reason on every call
     */
    public static synchronized CudaDevice of(int ordinal) {
        return open(ordinal, false);
    }

    private static CudaDevice open(int ordinal, boolean fromProperty) {
        Object state = OPENED.get(ordinal);
        if (state == null) {
            try {
                state = openDevice(ordinal, fromProperty);
            } catch (UnavailableException e) {
                state = e;
            } catch (RuntimeException | LinkageError e) {
                state = new UnavailableException("opening the CUDA device failed: " + NativeErrors.summary(e), e);
            }
            OPENED.put(ordinal, state);
        }
        if (state instanceof UnavailableException unavailable) {
            throw unavailable;
        }
        return (CudaDevice) state;
    }

    /** The driver, initialised once per process: the device count, or why there is no driver. */
    private static int deviceCount() {
        if (driverState == null) {
            try {
                driverState = initialiseDriver();
            } catch (UnavailableException e) {
                driverState = e;
            } catch (RuntimeException | LinkageError e) {
                driverState = new UnavailableException("opening the CUDA device failed: " + NativeErrors.summary(e));
            }
        }
        if (driverState instanceof UnavailableException unavailable) {
            throw unavailable;
        }
        return (Integer) driverState;
    }

    private static int initialiseDriver() {
        var driver = DriverLibrary.locate();
        if (driver.isEmpty()) {
            throw new UnavailableException(DriverLibrary.notFoundReason());
        }
        int init;
        try {
            JCudaDriver.setExceptionsEnabled(false);
            init = cuInit(0);
        } catch (LinkageError e) {
            String summary = NativeErrors.summary(e);
            if (summary.contains(DriverLibrary.NAME)) {
                throw new UnavailableException("no CUDA driver: " + DriverLibrary.NAME + " is at " + driver.get()
                        + " but does not load: " + summary);
            }
            throw new UnavailableException("JCuda's native library (JCudaDriver 12.6.0 for linux-x86_64) does not load: "
                    + summary);
        }
        if (init == CUresult.CUDA_ERROR_NO_DEVICE) {
            throw new UnavailableException("no CUDA device: the driver is installed, but cuInit found no device "
                    + "(CUDA_ERROR_NO_DEVICE)");
        }
        if (init != CUresult.CUDA_SUCCESS) {
            throw new UnavailableException("cuInit failed: " + CUresult.stringFor(init));
        }
        int[] count = new int[1];
        Driver.check(cuDeviceGetCount(count), "cuDeviceGetCount");
        if (count[0] == 0) {
            throw new UnavailableException("no CUDA device: the driver is installed, but cuDeviceGetCount found none");
        }
        return count[0];
    }

    private static CudaDevice openDevice(int ordinal, boolean fromProperty) {
        int count = deviceCount();
        if (ordinal < 0 || ordinal >= count) {
            throw new UnavailableException((fromProperty ? "-D" + CudaSettings.DEVICE_PROPERTY + "=" + ordinal
                    : "device ordinal " + ordinal) + " names no device: there "
                    + (count == 1 ? "is 1 device (ordinal 0)" : "are " + count + " (ordinals 0 to " + (count - 1) + ")"));
        }
        CUdevice device = new CUdevice();
        Driver.check(cuDeviceGet(device, ordinal), "cuDeviceGet");
        CudaDevice opened = new CudaDevice(ordinal, device);
        try {
            opened.loadLibraries();
        } catch (RuntimeException | Error e) {
            opened.releaseAfter(e);
            throw e;
        }
        return opened;
    }

    private void loadLibraries() {
        BindingChoice<Blas> blasChoice = BindingChoice.choose("cuBLAS",
                () -> JCublasBlas.open(stream, tf32),
                () -> ForeignBlas.open(ForeignBlas.load(), stream.address(), tf32),
                Blas::description);
        this.blas = blasChoice.binding(); // before NVRTC's choice, so that a failure there closes the handle
        BindingChoice<Nvrtc> nvrtcChoice = BindingChoice.choose("NVRTC", JNvrtcCompiler::load, ForeignNvrtc::load,
                Nvrtc::description);
        this.nvrtc = nvrtcChoice.binding();
        this.cudnn = new DeviceCudnn(ordinal, cudnnUse, blas, stream, tf32, allocator, this::enter);
        int[] driverVersion = new int[1];
        String driver = cuDriverGetVersion(driverVersion) == CUresult.CUDA_SUCCESS
                ? ", driver " + driverVersion[0] / 1000 + "." + driverVersion[0] % 1000 / 10 : "";
        String compiler = nvrtc.version().map(v -> ", NVRTC " + v).orElse("");
        LOG.info(() -> "Adjoint CUDA backend on device " + ordinal + ", " + name + " (compute capability " + major + "."
                + minor + ", " + multiprocessors + " SMs" + driver + compiler + "): " + blasChoice.explanation() + "; "
                + nvrtcChoice.explanation() + "; TF32 "
                + (tf32 ? "allowed (-D" + CudaSettings.TF32_PROPERTY + "=true)" : "off") + "; device memory from "
                + (streamOrdered ? "the driver's stream-ordered pool"
                        : "cuMemAlloc" + (poolRefused ? " (forced by -D" + CudaSettings.POOL_PROPERTY + "=false)" : ""))
                + "; convolution: " + cudnn.path());
    }

    /** Lets the cleaners of unreachable buffers run, so that their blocks come back before the cache is emptied. */
    private static void collectUnreachableBuffers() {
        System.gc();
        try {
            // Cleaners run on their own thread after the collection; a short wait lets most of them finish.
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void enter() {
        // Set every time: other CUDA code on this thread may have made another context current
        // since, and the call costs far less than the work it guards.
        Driver.check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    /**
     * A new buffer.
     *
     * @param size element count
     * @param zero whether to zero it (queued on the stream)
     * @return the buffer
     */
    public synchronized CudaBuffer allocate(long size, boolean zero) {
        if (size == 0) {
            return CudaBuffer.empty();
        }
        enter();
        long address = allocator.allocate(Math.multiplyExact(size, Float.BYTES));
        if (zero) {
            try {
                Driver.check(cuMemsetD32Async(Driver.pointer(address), 0, size, stream), "cuMemsetD32Async");
            } catch (RuntimeException | Error e) {
                // Not yet owned by a buffer whose cleaner would give it back: given back here.
                try {
                    allocator.free(address);
                } catch (RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
                throw e;
            }
        }
        return CudaBuffer.owning(allocator, address, size);
    }

    /**
     * Copies host data into a buffer of at least its size.
     *
     * @param data   the elements
     * @param buffer the destination
     */
    public synchronized void upload(float[] data, CudaBuffer buffer) {
        enter();
        staging.upload(data, buffer.address());
    }

    /**
     * Copies a table of 64-bit values (a multi-tensor kernel's) to a new buffer on the device.
     * The copy is queued; the caller releases the buffer once it has queued the kernels that
     * read it (the cache hands it out again only to later work on the same stream).
     *
     * @param table the values, at most 8,192
     * @return the buffer, {@code 2 * table.length} floats
     */
    public synchronized CudaBuffer uploadTable(long[] table) {
        CudaBuffer buffer = allocate(2L * table.length, false);
        try {
            staging.upload(table, buffer.address());
        } catch (RuntimeException e) {
            buffer.release();
            throw e;
        }
        return buffer;
    }

    /**
     * Copies a buffer to the host, after all work queued before.
     *
     * @param buffer the source
     * @return its elements
     */
    public synchronized float[] download(CudaBuffer buffer) {
        enter();
        return staging.download(buffer.address(), Math.toIntExact(buffer.size()));
    }

    /**
     * Sets {@code count} elements of a buffer to {@code value} (a 32-bit memset of its bits).
     *
     * @param buffer the buffer
     * @param offset first element
     * @param count  element count
     * @param value  the value
     */
    public synchronized void fill(CudaBuffer buffer, long offset, long count, float value) {
        if (count == 0) {
            return;
        }
        enter();
        Driver.check(cuMemsetD32Async(Driver.pointer(buffer.address(offset)), Float.floatToRawIntBits(value), count,
                stream), "cuMemsetD32Async");
    }

    /**
     * Queues one cuBLAS product (see {@link Blas#sgemm}).
     *
     * @param call  the arguments
     * @param alpha scale of the product
     * @param a     cuBLAS's A (the engine's B)
     * @param b     cuBLAS's B (the engine's A)
     * @param beta  scale of C
     * @param c     C
     */
    public synchronized void sgemm(ColumnMajorGemm call, float alpha, CudaBuffer a, long aOffset, CudaBuffer b,
                                   long bOffset, float beta, CudaBuffer c, long cOffset) {
        enter();
        blas.sgemm(call, alpha, a.address(aOffset), b.address(bOffset), beta, c.address(cOffset));
    }

    /**
     * The convolution path, as the log line says it.
     *
     * @return for example {@code cuDNN 9.1.0 (libcudnn.so.9 at /opt/...)} or {@code im2col + cuBLAS (cuDNN: ...)};
     *         {@code cuDNN checked on first convolution} before {@link #cudnnRefusal} first ran
     */
    public synchronized String convolutionPath() {
        return cudnn.path();
    }

    /**
     * What {@code -Dadjoint.cuda.cudnn} asks for.
     *
     * @return off, on (the default) or require
     */
    public CudnnUse cudnnUse() {
        return cudnnUse;
    }

    /**
     * Why convolutions cannot go through cuDNN here, or {@code null} when they can. The first
     * call loads and opens cuDNN (unless {@code -Dadjoint.cuda.cudnn=false}) and logs the
     * outcome. The first call while cuDNN is open runs {@code trial} (holding the lock, with
     * cuDNN in place, so that it can call {@link #convolve}): when it reports a failure, or a
     * cuDNN call in it throws, cuDNN is closed, the reason logged, and every later call answers
     * it. Any other exception of the trial propagates, and the next call runs it again.
     *
     * @param trial runs a convolution in each direction through cuDNN and another path and
     *              compares: the failure, or {@code null}
     * @return the reason (the log line's convolution part), or {@code null}
     */
    public synchronized String cudnnRefusal(Function<CudaDevice, String> trial) {
        return cudnn.refusal(() -> trial.apply(this));
    }

    /**
     * Counts a convolution that cuDNN was trusted with but that took the im2col path, and logs
     * the first of each kind.
     *
     * @param kind   for example {@code cudnnConvolutionForward CUDNN_STATUS_EXECUTION_FAILED}
     * @param reason the whole reason
     */
    public synchronized void noteCudnnFallback(String kind, String reason) {
        cudnn.noteFallback(kind, reason);
    }

    /**
     * Convolutions that cuDNN was trusted with but that took the im2col path.
     *
     * @return the count since the device was opened
     */
    public synchronized long cudnnFallbacks() {
        return cudnn.fallbacks();
    }

    /**
     * Queues one cuDNN convolution (see {@link ForeignCudnn#run}). The first call of a shape and
     * direction runs the first algorithm that qualifies and whose workspace the caching
     * allocator has at hand ({@link CachingAllocator#tryAllocate}: its cache or the device, no
     * reclaiming); one whose workspace does not fit makes way for the next, and so does every
     * later one asking as much or more. Once one has run it is the only one for that shape and
     * direction ({@link ForeignCudnn.Call#settled()}): the same shape always runs the same
     * algorithm, and when its workspace cannot be had the call is declined (the caller's
     * counted im2col fallback), never run with another algorithm.
     *
     * @param direction which computation
     * @param shape     the sizes
     * @param first     the first operand in cuDNN's order (x, or w for the input gradient)
     * @param second    the second operand (w, or dy for either gradient)
     * @param result    the result, overwritten
     * @return {@code null} when queued; else, with nothing queued, why not (no algorithm
     *         qualifies, or no workspace fits)
     * @throws CudnnException when a cuDNN call fails (naming it and its status)
     * @throws IllegalStateException when cuDNN is not loaded
     */
    public synchronized String convolve(CudnnShape.Direction direction, CudnnShape shape, CudaBuffer first,
                                        CudaBuffer second, CudaBuffer result) {
        return cudnn.convolve(direction, shape, first, second, result);
    }

    /**
     * Runs {@code work} with the compiled kernels, compiling them on first use; holds the lock.
     *
     * @param work the launches
     */
    public synchronized void withKernels(Consumer<CudaKernels> work) {
        enter();
        if (kernelFailure != null) {
            // A failed compile is not retried on every operation: it would take seconds each time.
            throw new IllegalStateException("the CUDA kernels could not be built earlier: " + kernelFailure.getMessage(),
                    kernelFailure);
        }
        if (kernels == null) {
            long start = System.nanoTime();
            try {
                kernels = CudaKernels.compile(nvrtc, major, minor, stream, grid);
            } catch (RuntimeException e) {
                kernelFailure = e;
                throw e;
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            String form = kernels.form();
            LOG.fine(() -> "Adjoint CUDA kernels loaded as " + form + ", compiled in " + millis + " ms");
        }
        work.accept(kernels);
    }

    /** Waits until every queued operation has finished. */
    public synchronized void synchronize() {
        enter();
        Driver.check(cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    /**
     * The allocator's statistics.
     *
     * @return a snapshot
     */
    public synchronized DeviceMemoryStats memoryStats() {
        return allocator.stats();
    }

    /** Gives cached device memory back to the driver. */
    public synchronized void emptyCache() {
        enter();
        allocator.emptyCache();
    }

    /** Restarts the peak of bytes in use from now. */
    public synchronized void resetPeakMemoryStats() {
        allocator.resetPeak();
    }

    /**
     * Returns a buffer's block to the cache.
     *
     * @param buffer the buffer
     */
    public synchronized void release(CudaBuffer buffer) {
        buffer.release();
    }

    /**
     * The device's name, for example {@code NVIDIA H100 80GB HBM3}.
     *
     * @return the name
     */
    public String name() {
        return name;
    }
}
