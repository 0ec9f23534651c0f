package org.adjoint.cuda.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

import org.adjoint.backend.ConvGeometry;

/**
 * cuDNN's convolutions through {@code java.lang.foreign}: a binding of the legacy convolution
 * API that cuDNN 9 still exports ({@code libcudnn.so.9}, which PyTorch's CUDA wheels carry),
 * for the three convolutions of {@link org.adjoint.backend.ConvolutionOps} on the backend's
 * stream. Optional: when the library does not load, is not cuDNN 9, or was built for another
 * CUDA major than the cuBLAS in use ({@link Functions#incompatibility}), the backend keeps its
 * im2col path.
 *
 * <p>Per shape (images, channels, sizes, window, groups) the binding keeps the tensor, filter
 * and convolution descriptors and, per direction, the algorithms that qualify and their
 * workspace sizes, in a small cache ({@value #CACHE_CAPACITY} shapes; the least recently used
 * is destroyed first, but never while a {@link Call} that uses it is open, and {@link #close}
 * destroys them all). The algorithms are cuDNN's heuristic list
 * ({@code cudnnGetConvolution*Algorithm_v7}, a function of the shape and the device, not of
 * timings, so every run of a program picks the same ones), filtered: those that succeeded, are
 * <em>deterministic</em> (bitwise the same result on every call: the checkpoint suites demand
 * gradients equal to the bit between runs, and cuDNN's backward algorithms that add with
 * atomics are not), use no TF32 unless the backend's TF32 switch is on, and need at most
 * {@value #WORKSPACE_LIMIT} bytes of workspace, in the heuristic's order. Workspace sizes are
 * C {@code size_t}s, read as unsigned: a size of 2⁶³ bytes or more is not a negative number
 * here but one more size over the limit. The caller runs the first candidate whose workspace
 * it can allocate; a shape with no candidate is left to its im2col path, with
 * {@link Call#refusal()} saying why.
 *
 * <p>Every failing cuDNN call throws a {@link CudnnException} naming the call and its status.
 * Not thread-safe: the device calls it under its lock, with its context current.
 */
@SuppressWarnings("restricted") // reading cuDNN's error strings; native access is granted on the command line
public final class ForeignCudnn implements AutoCloseable {

    /** System property: {@code true} (the default), {@code false} or {@code require}; see {@link Use}. */
    public static final String PROPERTY = "adjoint.cuda.cudnn";
    /** Library file names tried. */
    public static final List<String> LIBRARY_NAMES = List.of("libcudnn.so.9");
    /** The cuDNN major version bound. */
    public static final int MAJOR = 9;
    /** Most workspace bytes an algorithm may ask for. */
    public static final long WORKSPACE_LIMIT = 1L << 30;
    /** Shapes whose descriptors are kept. */
    public static final int CACHE_CAPACITY = 64;
    /** Most algorithms asked of a heuristic (cuDNN lists a handful per direction; this only bounds a wrong count). */
    static final int MAX_ALGORITHMS = 64;

    /** What {@value #PROPERTY} asks for. */
    public enum Use {
        /** {@code false}: the im2col path, even where cuDNN loads. */
        OFF,
        /** {@code true}, the default: cuDNN where it loads, passes its checks and takes the call; else im2col. */
        ON,
        /**
         * {@code require}: cuDNN for every convolution; its absence, a failed check, or any call
         * that would fall back to the im2col path throws {@link IllegalStateException}.
         */
        REQUIRE;

        /**
         * The property's value.
         *
         * @return {@link #ON} when the property is not set
         * @throws IllegalArgumentException naming the value when it is none of the three
         */
        public static Use fromProperty() {
            String value = System.getProperty(PROPERTY, "true").strip();
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "true", "" -> ON;
                case "false" -> OFF;
                case "require" -> REQUIRE;
                default -> throw new IllegalArgumentException("cuda: -D" + PROPERTY + "=" + value
                        + " is none of true, false, require");
            };
        }
    }

    /** {@code CUDNN_DATA_FLOAT}. */
    static final int DATA_FLOAT = 0;
    /** {@code CUDNN_TENSOR_NCHW}. */
    static final int TENSOR_NCHW = 0;
    /** {@code CUDNN_CROSS_CORRELATION}: the window is not flipped, as in PyTorch. */
    static final int CROSS_CORRELATION = 1;
    /** {@code CUDNN_DEFAULT_MATH}: on Ampere and later, float32 convolutions may use TF32 tensor cores. */
    static final int DEFAULT_MATH = 0;
    /** {@code CUDNN_TENSOR_OP_MATH}: tensor cores (TF32 for float32); {@code 2}, with conversion to half, is never taken. */
    static final int TENSOR_OP_MATH = 1;
    /** {@code CUDNN_FMA_MATH}: only kernels with float32 FMA instructions. */
    static final int FMA_MATH = 3;
    /** {@code CUDNN_DETERMINISTIC}. */
    static final int DETERMINISTIC = 1;

    /** Bytes of one {@code cudnnConvolution*AlgoPerf_t}: algo, status, time, (pad), memory, determinism, mathType, reserved[3], (pad). */
    private static final long PERF_BYTES = 48;
    private static final long PERF_STATUS = 4;
    private static final long PERF_MEMORY = 16;
    private static final long PERF_DETERMINISM = 24;
    private static final long PERF_MATH = 28;

    private final Functions functions;
    private final MemorySegment handle;
    private final boolean tf32;
    private final MemorySegment one;
    private final MemorySegment zero;
    /** In access order: the least recently used shape first. */
    private final LinkedHashMap<Shape, Descriptors> cache = new LinkedHashMap<>(16, 0.75f, true);

    /** The three computations, with the C names of their calls. */
    public enum Direction {
        /** {@code y = conv(x, w)}. */
        FORWARD("cudnnConvolutionForward", "cudnnGetConvolutionForwardAlgorithm_v7",
                "cudnnGetConvolutionForwardWorkspaceSize"),
        /** {@code dx} from {@code dy} and {@code w}. */
        BACKWARD_DATA("cudnnConvolutionBackwardData", "cudnnGetConvolutionBackwardDataAlgorithm_v7",
                "cudnnGetConvolutionBackwardDataWorkspaceSize"),
        /** {@code dw} from {@code x} and {@code dy}. */
        BACKWARD_FILTER("cudnnConvolutionBackwardFilter", "cudnnGetConvolutionBackwardFilterAlgorithm_v7",
                "cudnnGetConvolutionBackwardFilterWorkspaceSize");

        final String call;
        final String heuristic;
        final String workspace;

        Direction(String call, String heuristic, String workspace) {
            this.call = call;
            this.heuristic = heuristic;
            this.workspace = workspace;
        }

        /**
         * The C function that computes it.
         *
         * @return for example {@code cudnnConvolutionForward}
         */
        public String call() {
            return call;
        }
    }

    /**
     * One convolution's sizes, as cuDNN's descriptors take them.
     *
     * @param images       N
     * @param channels     C
     * @param height       H
     * @param width        W
     * @param outputs      output channels
     * @param groups       channel groups
     * @param kernelHeight kH
     * @param kernelWidth  kW
     * @param stride       step in both directions
     * @param padding      padding on every side
     * @param dilation     step between taps
     * @param outHeight    H'
     * @param outWidth     W'
     */
    public record Shape(int images, int channels, int height, int width, int outputs, int groups, int kernelHeight,
                        int kernelWidth, int stride, int padding, int dilation, int outHeight, int outWidth) {

        /**
         * The shape of a call of the SPI, or {@code null} when cuDNN cannot take it: a size of 0
         * (cuDNN's descriptors refuse empty tensors) or a tensor of 2³¹ elements or more (its
         * legacy descriptors count in {@code int}).
         *
         * @param geometry the window over one image
         * @param images   N
         * @param outputs  output channels
         * @param groups   channel groups
         * @return the shape, or {@code null}
         */
        public static Shape of(ConvGeometry geometry, int images, int outputs, int groups) {
            ConvGeometry g = geometry;
            if (images < 1 || outputs < 1 || groups < 1 || g.channels() < 1 || g.height() < 1 || g.width() < 1
                    || g.channels() % groups != 0 || outputs % groups != 0) {
                return null;
            }
            long limit = Integer.MAX_VALUE;
            if (images * g.imageSize() > limit || (long) images * outputs * g.columnCols() > limit
                    || (long) outputs * (g.columnRows() / groups) > limit) {
                return null;
            }
            return new Shape(images, g.channels(), g.height(), g.width(), outputs, groups, g.kernelHeight(),
                    g.kernelWidth(), g.stride(), g.padding(), g.dilation(), g.outHeight(), g.outWidth());
        }
    }

    /** The bound entry points of one library. */
    public static final class Functions {
        final NativeLibraries.Loaded library;
        final MethodHandle getVersion;
        final MethodHandle getCudartVersion;
        final MethodHandle getErrorString;
        final MethodHandle create;
        final MethodHandle destroy;
        final MethodHandle setStream;
        final MethodHandle createTensor;
        final MethodHandle setTensor;
        final MethodHandle destroyTensor;
        final MethodHandle createFilter;
        final MethodHandle setFilter;
        final MethodHandle destroyFilter;
        final MethodHandle createConvolution;
        final MethodHandle setConvolution;
        final MethodHandle setGroupCount;
        final MethodHandle setMathType;
        final MethodHandle destroyConvolution;
        final MethodHandle[] maxCount = new MethodHandle[3];
        final MethodHandle[] heuristic = new MethodHandle[3];
        final MethodHandle[] workspaceSize = new MethodHandle[3];
        final MethodHandle[] run = new MethodHandle[3];

        private Functions(NativeLibraries.Loaded library) {
            this.library = library;
            // size_t results: JAVA_LONG, read as unsigned.
            getVersion = library.downcall("cudnnGetVersion", FunctionDescriptor.of(JAVA_LONG));
            getCudartVersion = library.downcall("cudnnGetCudartVersion", FunctionDescriptor.of(JAVA_LONG));
            getErrorString = library.downcall("cudnnGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
            create = library.downcall("cudnnCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            destroy = library.downcall("cudnnDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            setStream = library.downcall("cudnnSetStream", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            createTensor = library.downcall("cudnnCreateTensorDescriptor", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            // (desc, dataType, n, c, h, w, nStride, cStride, hStride, wStride)
            setTensor = library.downcall("cudnnSetTensor4dDescriptorEx", FunctionDescriptor.of(JAVA_INT, ADDRESS,
                    JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
            destroyTensor = library.downcall("cudnnDestroyTensorDescriptor", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            createFilter = library.downcall("cudnnCreateFilterDescriptor", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            // (desc, dataType, format, k, c, h, w)
            setFilter = library.downcall("cudnnSetFilter4dDescriptor", FunctionDescriptor.of(JAVA_INT, ADDRESS,
                    JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
            destroyFilter = library.downcall("cudnnDestroyFilterDescriptor", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            createConvolution = library.downcall("cudnnCreateConvolutionDescriptor",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS));
            // (desc, pad_h, pad_w, u, v, dilation_h, dilation_w, mode, computeType)
            setConvolution = library.downcall("cudnnSetConvolution2dDescriptor", FunctionDescriptor.of(JAVA_INT,
                    ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
            setGroupCount = library.downcall("cudnnSetConvolutionGroupCount",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
            setMathType = library.downcall("cudnnSetConvolutionMathType",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
            destroyConvolution = library.downcall("cudnnDestroyConvolutionDescriptor",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS));
            String[] maxCountNames = {"cudnnGetConvolutionForwardAlgorithmMaxCount",
                "cudnnGetConvolutionBackwardDataAlgorithmMaxCount", "cudnnGetConvolutionBackwardFilterAlgorithmMaxCount"};
            // Every heuristic and workspace query takes (handle, four descriptors, ...) and every
            // call (handle, alpha, desc, a, desc, b, conv, algo, workspace, bytes, beta, desc, out).
            FunctionDescriptor heuristicSignature = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                    ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
            FunctionDescriptor workspaceSignature = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                    ADDRESS, JAVA_INT, ADDRESS);
            FunctionDescriptor runSignature = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                    ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS);
            for (Direction direction : Direction.values()) {
                int d = direction.ordinal();
                maxCount[d] = library.downcall(maxCountNames[d], FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
                heuristic[d] = library.downcall(direction.heuristic, heuristicSignature);
                workspaceSize[d] = library.downcall(direction.workspace, workspaceSignature);
                run[d] = library.downcall(direction.call, runSignature);
            }
        }

        /**
         * Where the library was found.
         *
         * @return a file name (found by the dynamic linker) or a path
         */
        public String location() {
            return library.location();
        }

        /**
         * The library's version, from {@code cudnnGetVersion}.
         *
         * @return for example {@code 9.1.0}
         */
        public String version() {
            long v = sizeResult(getVersion, "cudnnGetVersion");
            if (Long.compareUnsigned(v, 10_000_000) >= 0) {
                return "of number " + Long.toUnsignedString(v);
            }
            // cuDNN 9 counts major·10000 + minor·100 + patch (cuDNN 8 counted major·1000).
            return v >= 90000 ? v / 10000 + "." + v % 10000 / 100 + "." + v % 100
                    : v / 1000 + "." + v % 1000 / 100 + "." + v % 100;
        }

        /**
         * The library's major version.
         *
         * @return for example 9, or -1 for a number no cuDNN reports
         */
        public int major() {
            long v = sizeResult(getVersion, "cudnnGetVersion");
            if (Long.compareUnsigned(v, 10_000_000) >= 0) {
                return -1;
            }
            return (int) (v >= 90000 ? v / 10000 : v / 1000);
        }

        /**
         * Why this library must not be used beside a cuBLAS of {@code cudaMajor}: it is not
         * cuDNN {@value #MAJOR}, or {@code cudnnGetCudartVersion} says it was built for another
         * CUDA major (two CUDA runtimes of different majors in one process do not share a
         * context's state reliably, and cuDNN's kernels are built for its own).
         *
         * @param cudaMajor the CUDA major of the cuBLAS in use
         * @return the reason, or {@code null} when it may be used
         */
        public String incompatibility(int cudaMajor) {
            int major = major();
            if (major != MAJOR) {
                return library.name() + " reports cuDNN " + version() + " (cudnnGetVersion "
                        + Long.toUnsignedString(sizeResult(getVersion, "cudnnGetVersion")) + "), not cuDNN " + MAJOR;
            }
            long cudart = sizeResult(getCudartVersion, "cudnnGetCudartVersion");
            // CUDART_VERSION counts major·1000 + minor·10.
            long cudartMajor = Long.divideUnsigned(cudart, 1000);
            if (cudartMajor != cudaMajor) {
                return "cuDNN " + version() + " is built for CUDA " + Long.toUnsignedString(cudartMajor)
                        + " (cudnnGetCudartVersion " + Long.toUnsignedString(cudart) + ") but cuBLAS here is CUDA "
                        + cudaMajor + "'s";
            }
            return null;
        }

        private static long sizeResult(MethodHandle function, String name) {
            try {
                return (long) function.invokeExact();
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new CudnnException(name, -1, "cuda: " + name + " failed: " + t, t);
            }
        }

        /**
         * A status's name, from {@code cudnnGetErrorString}.
         *
         * @param status a {@code cudnnStatus_t}
         * @return for example {@code CUDNN_STATUS_BAD_PARAM}
         */
        String statusName(int status) {
            try {
                MemorySegment text = (MemorySegment) getErrorString.invokeExact(status);
                if (text.address() != 0) {
                    return text.reinterpret(1024).getString(0);
                }
            } catch (Throwable t) {
                // The number alone below.
            }
            return "cudnnStatus_t " + status;
        }

        void check(int status, String function) {
            if (status != 0) {
                throw new CudnnException(function, status, "cuda: " + function + " failed: " + statusName(status)
                        + " (" + status + ")", null);
            }
        }
    }

    private ForeignCudnn(Functions functions, MemorySegment handle, boolean tf32) {
        this.functions = functions;
        this.handle = handle;
        this.tf32 = tf32;
        this.one = Arena.global().allocate(JAVA_FLOAT);
        this.zero = Arena.global().allocate(JAVA_FLOAT);
        one.set(JAVA_FLOAT, 0, 1f);
        zero.set(JAVA_FLOAT, 0, 0f);
    }

    /**
     * Binds the entry points of an already loaded library; touches no device.
     *
     * @param library a cuDNN library
     * @return the functions
     * @throws IllegalStateException naming the first symbol the library lacks
     */
    public static Functions bind(NativeLibraries.Loaded library) {
        return new Functions(library);
    }

    /**
     * Loads {@code libcudnn.so.9} from the usual places (those of cuBLAS, which include the
     * {@code nvidia/cudnn/lib} folder of PyTorch's wheels) and binds it. Found in a folder, its
     * parts ({@code libcudnn_*.so.9}, of no other version) beside it are loaded first, since it
     * opens them by name.
     *
     * @return the functions
     * @throws IllegalStateException naming the libraries and folders tried, or the missing symbol
     */
    public static Functions load() {
        return bind(NativeLibraries.loadWithEveryCompanion(LIBRARY_NAMES, NativeLibraries.searchDirectories(),
                name -> COMPANION));
    }

    /**
     * The parts of cuDNN {@value #MAJOR} that {@code libcudnn.so.9} opens by name:
     * {@code libcudnn_*.so.9}, never another version's parts that may sit in the same folder.
     */
    static final Predicate<String> COMPANION = NativeLibraries.versionedParts("libcudnn_", MAJOR);

    /**
     * Creates a handle on {@code stream}; the CUDA context must be current.
     *
     * @param functions a bound library
     * @param stream    the backend's {@code CUstream}, as an address
     * @param tf32      whether convolutions may use TF32 tensor cores
     * @return the binding
     * @throws IllegalStateException when a cuDNN call fails
     */
    public static ForeignCudnn open(Functions functions, long stream, boolean tf32) {
        MemorySegment handle;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            functions.check((int) functions.create.invokeExact(out), "cudnnCreate");
            handle = out.get(ADDRESS, 0);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new CudnnException("cudnnCreate", -1, "cuda: cudnnCreate failed: " + t, t);
        }
        ForeignCudnn cudnn = new ForeignCudnn(functions, handle, tf32);
        try {
            functions.check((int) functions.setStream.invokeExact(handle, MemorySegment.ofAddress(stream)),
                    "cudnnSetStream");
        } catch (RuntimeException | Error e) {
            cudnn.close();
            throw e;
        } catch (Throwable t) {
            cudnn.close();
            throw new CudnnException("cudnnSetStream", -1, "cuda: cudnnSetStream failed: " + t, t);
        }
        return cudnn;
    }

    /**
     * What the log line says of this path.
     *
     * @return for example {@code cuDNN 9.1.0 (libcudnn.so.9 at /opt/venv/.../libcudnn.so.9)}
     */
    public String description() {
        String location = functions.location();
        return "cuDNN " + functions.version() + " (" + (location.contains("/") ? "libcudnn.so.9 at " + location
                : location + ", found by the dynamic linker") + ")";
    }


    /**
     * One direction of one shape, ready to run: its descriptors, held in the cache until
     * {@link #close()}, and the algorithms that qualify, with their workspace sizes.
     */
    public final class Call implements AutoCloseable {
        private final Direction direction;
        private final Descriptors descriptors;
        private final Plan plan;
        private boolean open = true;

        private Call(Direction direction, Descriptors descriptors, Plan plan) {
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
         * Workspace one algorithm needs.
         *
         * @param candidate from 0 to {@link #candidates()} - 1
         * @return bytes, at most {@value ForeignCudnn#WORKSPACE_LIMIT}; 0 for none
         */
        public long workspaceBytes(int candidate) {
            return plan.candidates.get(candidate).workspaceBytes;
        }

        /**
         * cuDNN's number of one algorithm.
         *
         * @param candidate from 0 to {@link #candidates()} - 1
         * @return for example 1 ({@code CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM})
         */
        public int algorithm(int candidate) {
            return plan.candidates.get(candidate).algorithm;
        }

        /**
         * Why no algorithm qualifies.
         *
         * @return the reason, or {@code null} when some do
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
     * call in this direction and cached. Making a new shape's descriptors may first destroy
     * those of the least recently used shape that no open {@link Call} holds.
     *
     * @param direction which computation
     * @param shape     the sizes
     * @return the call, to be closed after its {@link #run}; it may have no candidate
     * @throws CudnnException naming the cuDNN call and its status when one fails
     */
    public Call prepare(Direction direction, Shape shape) {
        Descriptors descriptors = cache.get(shape);
        if (descriptors == null) {
            evictForOneMore();
            descriptors = new Descriptors(shape);
            cache.put(shape, descriptors);
        }
        Plan plan = descriptors.plan(direction);
        descriptors.pins++;
        return new Call(direction, descriptors, plan);
    }

    /** Destroys least recently used shapes no open call holds until one more fits the cache. */
    private void evictForOneMore() {
        Iterator<Descriptors> eldestFirst = cache.values().iterator();
        while (cache.size() >= CACHE_CAPACITY && eldestFirst.hasNext()) {
            Descriptors eldest = eldestFirst.next();
            if (eldest.pins == 0) {
                eldestFirst.remove();
                eldest.close();
            }
        }
    }

    /**
     * Queues one candidate algorithm of a prepared convolution on the stream. The three
     * addresses come in cuDNN's order: {@code FORWARD} x, w, y; {@code BACKWARD_DATA} w, dy, dx;
     * {@code BACKWARD_FILTER} x, dy, dw. The result is overwritten (beta 0).
     *
     * @param call      from {@link #prepare}, not yet closed
     * @param candidate from 0 to {@link Call#candidates()} - 1
     * @param first     device address of the first operand
     * @param second    device address of the second operand
     * @param result    device address of the result
     * @param workspace device address of at least {@link Call#workspaceBytes} bytes (0 when none are needed)
     * @throws CudnnException naming the cuDNN call and its status when it fails
     * @throws IllegalStateException when the call is closed
     */
    public void run(Call call, int candidate, long first, long second, long result, long workspace) {
        if (!call.open) {
            throw new IllegalStateException("cuda: " + call.direction.call + " on a closed call");
        }
        MemorySegment[] d = call.descriptors.operands(call.direction);
        Plan plan = call.plan;
        Candidate chosen = plan.candidates.get(candidate);
        String name = call.direction.call;
        int status;
        try {
            if (tf32) {
                // cuDNN picks tensor-core kernels by the algorithm and the descriptor's math type together.
                functions.check((int) functions.setMathType.invokeExact(plan.convolution, chosen.mathType),
                        "cudnnSetConvolutionMathType");
            }
            status = (int) functions.run[call.direction.ordinal()].invokeExact(handle, one, d[0],
                    MemorySegment.ofAddress(first), d[1], MemorySegment.ofAddress(second), plan.convolution,
                    chosen.algorithm, MemorySegment.ofAddress(workspace), chosen.workspaceBytes, zero, d[2],
                    MemorySegment.ofAddress(result));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new CudnnException(name, -1, "cuda: " + name + " failed: " + t, t);
        }
        functions.check(status, name);
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
     *
     * @throws IllegalStateException when a call is still open (nothing is destroyed then)
     */
    @Override
    public void close() {
        for (Descriptors descriptors : cache.values()) {
            if (descriptors.pins != 0) {
                throw new IllegalStateException("cuda: closing cuDNN while a call on " + descriptors.shape + " is open");
            }
        }
        Failures failures = new Failures();
        for (Descriptors descriptors : cache.values()) {
            failures.run(descriptors::close);
        }
        cache.clear();
        failures.run(() -> call(functions.destroy, handle, "cudnnDestroy"));
        failures.throwFirst();
    }

    /** Runs destroy calls one after another, keeping the first failure and suppressing the rest into it. */
    private static final class Failures {
        private RuntimeException first;

        void run(Runnable destroy) {
            try {
                destroy.run();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }

        void throwFirst() {
            if (first != null) {
                throw first;
            }
        }
    }

    private void call(MethodHandle function, MemorySegment argument, String name) {
        int status;
        try {
            status = (int) function.invokeExact(argument);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new CudnnException(name, -1, "cuda: " + name + " failed: " + t, t);
        }
        functions.check(status, name);
    }

    private MemorySegment create(MethodHandle function, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int status = (int) function.invokeExact(out);
            functions.check(status, name);
            return out.get(ADDRESS, 0);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new CudnnException(name, -1, "cuda: " + name + " failed: " + t, t);
        }
    }

    /** Whether a {@code size_t} read into a {@code long} is more than {@code limit}: unsigned, so 2⁶³ and up are. */
    static boolean exceeds(long size, long limit) {
        return Long.compareUnsigned(size, limit) > 0;
    }

    /** One algorithm that qualifies: its number, the math type it runs with, its workspace. */
    private record Candidate(int algorithm, int mathType, long workspaceBytes) {
    }

    /**
     * One direction's choice: a convolution descriptor, the algorithms that qualify (best first)
     * and, when none does, why.
     */
    private record Plan(MemorySegment convolution, List<Candidate> candidates, String refusal) {
    }

    /** The descriptors of one shape. */
    private final class Descriptors {
        private final Shape shape;
        private final MemorySegment x;
        private final MemorySegment w;
        private final MemorySegment y;
        private final Plan[] plans = new Plan[Direction.values().length];
        /** Open calls on this shape: while more than 0, the cache keeps it. */
        private int pins;

        Descriptors(Shape s) {
            this.shape = s;
            MemorySegment input = null;
            MemorySegment filter = null;
            MemorySegment output = null;
            try {
                input = create(functions.createTensor, "cudnnCreateTensorDescriptor");
                setTensor(input, s.images(), s.channels(), s.height(), s.width());
                filter = create(functions.createFilter, "cudnnCreateFilterDescriptor");
                int status = (int) functions.setFilter.invokeExact(filter, DATA_FLOAT, TENSOR_NCHW, s.outputs(),
                        s.channels() / s.groups(), s.kernelHeight(), s.kernelWidth());
                functions.check(status, "cudnnSetFilter4dDescriptor");
                output = create(functions.createTensor, "cudnnCreateTensorDescriptor");
                setTensor(output, s.images(), s.outputs(), s.outHeight(), s.outWidth());
            } catch (RuntimeException | Error e) {
                destroyQuietly(input, filter, output, e);
                throw e;
            } catch (Throwable t) {
                CudnnException e = new CudnnException("cudnnSetFilter4dDescriptor", -1,
                        "cuda: cudnnSetFilter4dDescriptor failed: " + t, t);
                destroyQuietly(input, filter, output, e);
                throw e;
            }
            this.x = input;
            this.w = filter;
            this.y = output;
        }

        private void destroyQuietly(MemorySegment input, MemorySegment filter, MemorySegment output, Throwable cause) {
            Failures failures = new Failures();
            if (input != null) {
                failures.run(() -> call(functions.destroyTensor, input, "cudnnDestroyTensorDescriptor"));
            }
            if (filter != null) {
                failures.run(() -> call(functions.destroyFilter, filter, "cudnnDestroyFilterDescriptor"));
            }
            if (output != null) {
                failures.run(() -> call(functions.destroyTensor, output, "cudnnDestroyTensorDescriptor"));
            }
            try {
                failures.throwFirst();
            } catch (RuntimeException e) {
                cause.addSuppressed(e);
            }
        }

        /** A packed NCHW tensor: strides C·H·W, H·W, W, 1. */
        private void setTensor(MemorySegment descriptor, int n, int c, int h, int w) throws Throwable {
            int status = (int) functions.setTensor.invokeExact(descriptor, DATA_FLOAT, n, c, h, w, c * h * w, h * w, w, 1);
            functions.check(status, "cudnnSetTensor4dDescriptorEx");
        }

        /** The descriptors of the call's operands, in the call's order. */
        MemorySegment[] operands(Direction direction) {
            return switch (direction) {
                case FORWARD -> new MemorySegment[] {x, w, y};
                case BACKWARD_DATA -> new MemorySegment[] {w, y, x};
                case BACKWARD_FILTER -> new MemorySegment[] {x, y, w};
            };
        }

        Plan plan(Direction direction) {
            Plan plan = plans[direction.ordinal()];
            if (plan == null) {
                plan = choose(direction);
                plans[direction.ordinal()] = plan;
            }
            return plan;
        }

        private Plan choose(Direction direction) {
            Shape s = shape;
            int d = direction.ordinal();
            MemorySegment convolution = create(functions.createConvolution, "cudnnCreateConvolutionDescriptor");
            try (Arena arena = Arena.ofConfined()) {
                int status = (int) functions.setConvolution.invokeExact(convolution, s.padding(), s.padding(), s.stride(),
                        s.stride(), s.dilation(), s.dilation(), CROSS_CORRELATION, DATA_FLOAT);
                functions.check(status, "cudnnSetConvolution2dDescriptor");
                functions.check((int) functions.setGroupCount.invokeExact(convolution, s.groups()),
                        "cudnnSetConvolutionGroupCount");
                int math = tf32 ? DEFAULT_MATH : FMA_MATH;
                functions.check((int) functions.setMathType.invokeExact(convolution, math), "cudnnSetConvolutionMathType");
                MemorySegment count = arena.allocate(JAVA_INT);
                functions.check((int) functions.maxCount[d].invokeExact(handle, count), direction.heuristic
                        .replace("_v7", "MaxCount"));
                int requested = Math.clamp(count.get(JAVA_INT, 0), 1, MAX_ALGORITHMS);
                MemorySegment results = arena.allocate(PERF_BYTES * requested, 8);
                MemorySegment returned = arena.allocate(JAVA_INT);
                MemorySegment[] o = operands(direction);
                // The heuristic's descriptors come in the call's order, the convolution's before the result's.
                status = (int) functions.heuristic[d].invokeExact(handle, o[0], o[1], convolution, o[2], requested,
                        returned, results);
                functions.check(status, direction.heuristic);
                int found = Math.clamp(returned.get(JAVA_INT, 0), 0, requested);
                List<Candidate> candidates = new ArrayList<>();
                List<String> tooLarge = new ArrayList<>();
                MemorySegment bytes = arena.allocate(JAVA_LONG);
                for (int i = 0; i < found; i++) {
                    long at = i * PERF_BYTES;
                    int algorithm = results.get(JAVA_INT, at);
                    int mathType = results.get(JAVA_INT, at + PERF_MATH);
                    long memory = results.get(JAVA_LONG, at + PERF_MEMORY);
                    if (results.get(JAVA_INT, at + PERF_STATUS) != 0
                            || results.get(JAVA_INT, at + PERF_DETERMINISM) != DETERMINISTIC
                            || !(mathType == FMA_MATH || mathType == DEFAULT_MATH || tf32 && mathType == TENSOR_OP_MATH)) {
                        continue;
                    }
                    if (exceeds(memory, WORKSPACE_LIMIT)) {
                        tooLarge.add("algorithm " + algorithm + " asks for " + Long.toUnsignedString(memory) + " bytes");
                        continue;
                    }
                    if (tf32) {
                        functions.check((int) functions.setMathType.invokeExact(convolution, mathType),
                                "cudnnSetConvolutionMathType");
                    }
                    status = (int) functions.workspaceSize[d].invokeExact(handle, o[0], o[1], convolution, o[2],
                            algorithm, bytes);
                    if (status != 0) {
                        // The heuristic listed it, but it cannot size it: the next one may do.
                        tooLarge.add("algorithm " + algorithm + ": " + direction.workspace + " "
                                + functions.statusName(status));
                        continue;
                    }
                    long workspace = bytes.get(JAVA_LONG, 0);
                    if (exceeds(workspace, WORKSPACE_LIMIT)) {
                        tooLarge.add("algorithm " + algorithm + " needs " + Long.toUnsignedString(workspace) + " bytes");
                        continue;
                    }
                    candidates.add(new Candidate(algorithm, mathType, workspace));
                }
                String refusal = candidates.isEmpty() ? "cuDNN lists no deterministic" + (tf32 ? "" : " non-TF32")
                        + " algorithm within " + WORKSPACE_LIMIT + " bytes of workspace for " + direction.call + " on "
                        + s + (tooLarge.isEmpty() ? "" : " (" + String.join("; ", tooLarge) + ")") : null;
                return new Plan(convolution, List.copyOf(candidates), refusal);
            } catch (RuntimeException | Error e) {
                destroyConvolution(convolution, e);
                throw e;
            } catch (Throwable t) {
                CudnnException e = new CudnnException(direction.heuristic, -1,
                        "cuda: choosing a cuDNN algorithm failed: " + t, t);
                destroyConvolution(convolution, e);
                throw e;
            }
        }

        private void destroyConvolution(MemorySegment convolution, Throwable cause) {
            try {
                call(functions.destroyConvolution, convolution, "cudnnDestroyConvolutionDescriptor");
            } catch (RuntimeException e) {
                cause.addSuppressed(e);
            }
        }

        /** Destroys every descriptor of the shape, each tried even when one fails. */
        void close() {
            Failures failures = new Failures();
            for (Plan plan : plans) {
                if (plan != null) {
                    failures.run(() -> call(functions.destroyConvolution, plan.convolution,
                            "cudnnDestroyConvolutionDescriptor"));
                }
            }
            failures.run(() -> call(functions.destroyTensor, x, "cudnnDestroyTensorDescriptor"));
            failures.run(() -> call(functions.destroyFilter, w, "cudnnDestroyFilterDescriptor"));
            failures.run(() -> call(functions.destroyTensor, y, "cudnnDestroyTensorDescriptor"));
            failures.throwFirst();
        }
    }
}
