package org.adjoint.cuda.internal;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.logging.Logger;

/**
 * cuDNN's convolutions through {@code java.lang.foreign}: a binding of the legacy convolution
 * API that cuDNN 9 still exports ({@code libcudnn.so.9}, which PyTorch's CUDA wheels carry;
 * loaded and checked by {@link CudnnLibrary}), for the three convolutions of
 * {@link org.adjoint.backend.ConvolutionOps} on the backend's stream. Optional: when the library
 * does not load, is not cuDNN 9, or was built for another CUDA major than the cuBLAS in use,
 * the backend keeps its im2col path.
 *
 * <p>Per shape (images, channels, sizes, window, groups) the binding keeps the tensor, filter
 * and convolution descriptors and, per direction, the algorithms that qualify and their
 * workspace sizes ({@link CudnnPlans}), in a small cache ({@value #CACHE_CAPACITY} shapes; the
 * least recently used is destroyed first, but never while a {@link Call} that uses it is open,
 * and {@link #close} destroys them all). The caller runs the first candidate whose workspace it
 * can allocate, and from then on that one only ({@link Call#settled()}); a shape with no
 * candidate is left to its im2col path, with {@link Call#refusal()} saying why.
 *
 * <p>Every failing cuDNN call throws a {@link CudnnException} naming the call and its status.
 * Not thread-safe: the device calls it under its lock, with its context current.
 */
public final class ForeignCudnn implements AutoCloseable {

    /** Shapes whose descriptors are kept. */
    public static final int CACHE_CAPACITY = 64;
    /** Most workspace bytes an algorithm may ask for. */
    public static final long WORKSPACE_LIMIT = CudnnPlans.WORKSPACE_LIMIT;

    private static final Logger LOG = Logger.getLogger("org.adjoint.cuda.CudaBackend");
    /** The scale factors of every call (alpha 1, beta 0: the result is overwritten), read only. */
    private static final MemorySegment ONE = constant(1f);
    private static final MemorySegment ZERO = constant(0f);

    private final CudnnLibrary functions;
    private final MemorySegment handle;
    private final boolean tf32;
    /** In access order: the least recently used shape first. */
    private final LinkedHashMap<CudnnShape, CudnnPlans.Descriptors> cache = new LinkedHashMap<>(16, 0.75f, true);
    /** The first failure to destroy an evicted shape, or {@code null}: logged once, and eviction goes on. */
    private String evictionFailure;
    private boolean closed;

    private ForeignCudnn(CudnnLibrary functions, MemorySegment handle, boolean tf32) {
        this.functions = functions;
        this.handle = handle;
        this.tf32 = tf32;
    }

    private static MemorySegment constant(float value) {
        MemorySegment segment = Arena.global().allocate(JAVA_FLOAT);
        segment.set(JAVA_FLOAT, 0, value);
        return segment.asReadOnly();
    }

    /**
     * Creates a handle on {@code stream}; the CUDA context must be current.
     *
     * @param functions a bound library
     * @param stream    the backend's {@code CUstream}, as an address
     * @param tf32      whether convolutions may use TF32 tensor cores
     * @return the binding
     * @throws CudnnException when a cuDNN call fails (a failure to destroy the handle after it is suppressed into it)
     */
    public static ForeignCudnn open(CudnnLibrary functions, long stream, boolean tf32) {
        MemorySegment handle = functions.create(functions.create, "cudnnCreate");
        ForeignCudnn cudnn = new ForeignCudnn(functions, handle, tf32);
        try {
            functions.check((int) functions.setStream.invokeExact(handle, MemorySegment.ofAddress(stream)),
                    "cudnnSetStream");
        } catch (RuntimeException | Error e) {
            closeAfter(cudnn, e);
            throw e;
        } catch (Throwable t) {
            CudnnException e = new CudnnException("cudnnSetStream", -1, "cuda: cudnnSetStream failed: " + t, t);
            closeAfter(cudnn, e);
            throw e;
        }
        return cudnn;
    }

    private static void closeAfter(ForeignCudnn cudnn, Throwable cause) {
        try {
            cudnn.close();
        } catch (RuntimeException e) {
            cause.addSuppressed(e);
        }
    }

    /**
     * The library this binding calls.
     *
     * @return the library
     */
    public CudnnLibrary library() {
        return functions;
    }

    /**
     * What the log line says of this path: the version, where the library is, and any of its
     * parts that did not load.
     *
     * @return for example {@code cuDNN 9.1.0 (libcudnn.so.9 at /opt/venv/.../libcudnn.so.9)}
     */
    public String description() {
        String location = functions.location();
        String parts = functions.companionFailures().isEmpty() ? ""
                : "; its parts that did not load: " + String.join("; ", functions.companionFailures());
        return "cuDNN " + functions.version() + " (" + (location.contains("/") ? "libcudnn.so.9 at " + location
                : location + ", found by the dynamic linker") + parts + ")";
    }

    /**
     * One direction of one shape, ready to run: its descriptors, held in the cache until
     * {@link #close()}, and the algorithms that qualify, with their workspace sizes.
     */
    public final class Call implements AutoCloseable {
        private final CudnnShape.Direction direction;
        private final CudnnPlans.Descriptors descriptors;
        private final CudnnPlans.Plan plan;
        private boolean open = true;

        private Call(CudnnShape.Direction direction, CudnnPlans.Descriptors descriptors, CudnnPlans.Plan plan) {
            this.direction = direction;
            this.descriptors = descriptors;
            this.plan = plan;
        }

        /**
         * The algorithms to try, best first (the heuristic's order).
         *
         * @return 0 when none qualifies: see {@link #refusal()}
         */
        public int candidates() {
            return plan.candidates.size();
        }

        /**
         * The candidate that ran first for this shape and direction, which every later call
         * must run: with its workspace, or not at all.
         *
         * @return its index, or -1 while none has run
         */
        public int settled() {
            return plan.settled();
        }

        /**
         * Workspace one algorithm needs.
         *
         * @param candidate from 0 to {@link #candidates()} - 1
         * @return bytes, at most {@value ForeignCudnn#WORKSPACE_LIMIT}; 0 for none
         */
        public long workspaceBytes(int candidate) {
            return plan.candidates.get(candidate).workspaceBytes();
        }

        /**
         * cuDNN's number of one algorithm.
         *
         * @param candidate from 0 to {@link #candidates()} - 1
         * @return for example 1 ({@code CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM})
         */
        public int algorithm(int candidate) {
            return plan.candidates.get(candidate).algorithm();
        }

        /**
         * Why no algorithm qualifies.
         *
         * @return the reason (a failed cuDNN call's message, when choosing failed), or {@code null} when some do
         */
        public String refusal() {
            return plan.refusal;
        }

        /** Lets the cache destroy the shape's descriptors again. */
        @Override
        public void close() {
            if (open) {
                open = false;
                descriptors.pins--;
            }
        }
    }

    /**
     * The descriptors and algorithms of a convolution, made and chosen on the shape's first
     * call in this direction and cached (a failed choice too, as a refusal). Making a new
     * shape's descriptors may first destroy those of the least recently used shape that no open
     * {@link Call} holds.
     *
     * @param direction which computation
     * @param shape     the sizes
     * @return the call, to be closed after its {@link #run}; it may have no candidate
     * @throws CudnnException naming the cuDNN call and its status when making the shape's descriptors fails
     * @throws IllegalStateException after {@link #close()}
     */
    public Call prepare(CudnnShape.Direction direction, CudnnShape shape) {
        requireOpen();
        CudnnPlans.Descriptors descriptors = cache.get(shape);
        if (descriptors == null) {
            evictForOneMore();
            descriptors = new CudnnPlans.Descriptors(functions, handle, tf32, shape);
            cache.put(shape, descriptors);
        }
        CudnnPlans.Plan plan = descriptors.plan(direction);
        descriptors.pins++;
        return new Call(direction, descriptors, plan);
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("cuda: cuDNN is closed");
        }
    }

    /**
     * Destroys least recently used shapes no open call holds until one more fits the cache. A
     * shape whose destruction fails is dropped all the same (its descriptors are lost, not the
     * current call), and the first such failure is logged.
     */
    private void evictForOneMore() {
        Iterator<CudnnPlans.Descriptors> eldestFirst = cache.values().iterator();
        while (cache.size() >= CACHE_CAPACITY && eldestFirst.hasNext()) {
            CudnnPlans.Descriptors eldest = eldestFirst.next();
            if (eldest.pins == 0) {
                eldestFirst.remove();
                try {
                    eldest.close();
                } catch (RuntimeException e) {
                    if (evictionFailure == null) {
                        evictionFailure = e.getMessage();
                        LOG.warning(() -> "Adjoint CUDA backend: destroying the cuDNN descriptors of " + eldest.shape
                                + " failed: " + e.getMessage() + " (logged once; the convolutions go on)");
                    }
                }
            }
        }
    }

    /**
     * The first failure to destroy an evicted shape's descriptors.
     *
     * @return its message, or {@code null} when none failed
     */
    public String evictionFailure() {
        return evictionFailure;
    }

    /**
     * Queues one candidate algorithm of a prepared convolution on the stream; after it succeeds
     * the candidate is the plan's settled one ({@link Call#settled()}). The three addresses come
     * in cuDNN's order: {@code FORWARD} x, w, y; {@code BACKWARD_DATA} w, dy, dx;
     * {@code BACKWARD_FILTER} x, dy, dw. The result is overwritten (beta 0).
     *
     * @param call      from {@link #prepare}, not yet closed
     * @param candidate from 0 to {@link Call#candidates()} - 1; the settled one once there is one
     * @param first     device address of the first operand
     * @param second    device address of the second operand
     * @param result    device address of the result
     * @param workspace device address of at least {@link Call#workspaceBytes} bytes (0 when none are needed)
     * @throws CudnnException naming the cuDNN call and its status when it fails
     * @throws IllegalStateException when the call or the binding is closed, or the candidate is
     *                               not the settled one
     */
    public void run(Call call, int candidate, long first, long second, long result, long workspace) {
        requireOpen();
        if (!call.open) {
            throw new IllegalStateException("cuda: " + call.direction.call + " on a closed call");
        }
        CudnnPlans.Plan plan = call.plan;
        if (plan.settled() >= 0 && plan.settled() != candidate) {
            throw new IllegalStateException("cuda: " + call.direction.call + " on " + call.descriptors.shape
                    + " runs algorithm " + call.algorithm(plan.settled()) + " only, not " + call.algorithm(candidate));
        }
        MemorySegment[] d = call.descriptors.operands(call.direction);
        CudnnPlans.Candidate chosen = plan.candidates.get(candidate);
        String name = call.direction.call;
        int status;
        try {
            if (tf32) {
                // cuDNN picks tensor-core kernels by the algorithm and the descriptor's math type together.
                functions.check((int) functions.setMathType.invokeExact(plan.convolution, chosen.mathType()),
                        "cudnnSetConvolutionMathType");
            }
            status = (int) functions.run[call.direction.ordinal()].invokeExact(handle, ONE, d[0],
                    MemorySegment.ofAddress(first), d[1], MemorySegment.ofAddress(second), plan.convolution,
                    chosen.algorithm(), MemorySegment.ofAddress(workspace), chosen.workspaceBytes(), ZERO, d[2],
                    MemorySegment.ofAddress(result));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new CudnnException(name, -1, "cuda: " + name + " failed: " + t, t);
        }
        functions.check(status, name);
        plan.settle(candidate);
    }

    /**
     * Shapes whose descriptors are cached now (for tests).
     *
     * @return at most {@value #CACHE_CAPACITY}, unless open calls hold more
     */
    public int cachedShapes() {
        return cache.size();
    }

    /**
     * Destroys every cached descriptor, then the handle ({@code cudnnDestroy}); every one is
     * tried even when one fails, and the first failure is thrown with the others suppressed.
     * A second call does nothing.
     *
     * @throws IllegalStateException when a call is still open (nothing is destroyed then)
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        for (CudnnPlans.Descriptors descriptors : cache.values()) {
            if (descriptors.pins != 0) {
                throw new IllegalStateException("cuda: closing cuDNN while a call on " + descriptors.shape
                        + " is open");
            }
        }
        closed = true;
        NativeFailures failures = new NativeFailures();
        for (CudnnPlans.Descriptors descriptors : cache.values()) {
            failures.run(descriptors::close);
        }
        cache.clear();
        failures.run(() -> functions.call(functions.destroy, handle, "cudnnDestroy"));
        failures.throwFirst();
    }
}
