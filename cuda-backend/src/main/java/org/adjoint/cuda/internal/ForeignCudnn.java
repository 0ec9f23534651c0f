package org.adjoint.cuda.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.adjoint.backend.ConvGeometry;

/**
 * cuDNN's convolutions through {@code java.lang.foreign}: a binding of the legacy convolution
 * API that cuDNN 9 still exports ({@code libcudnn.so.9}, which PyTorch's CUDA wheels carry),
 * for the three convolutions of {@link org.adjoint.backend.ConvolutionOps} on the backend's
 * stream. Optional: when the library does not load, the backend keeps its im2col path.
 *
 * <p>Per shape (images, channels, sizes, window, groups) the binding keeps the tensor, filter
 * and convolution descriptors and, per direction, the algorithm and its workspace size, in a
 * small cache ({@value #CACHE_CAPACITY} shapes; the least recently used is destroyed first,
 * and {@link #close} destroys them all). The algorithm is cuDNN's heuristic choice
 * ({@code cudnnGetConvolution*Algorithm_v7}, a function of the shape and the device, not of
 * timings, so every run of a program picks the same one), filtered: the first one listed that
 * succeeded, is <em>deterministic</em> (bitwise the same result on every call: the checkpoint
 * suites demand gradients equal to the bit between runs, and cuDNN's backward algorithms that
 * add with atomics are not), uses no TF32 unless the backend's TF32 switch is on, and needs
 * at most {@value #WORKSPACE_LIMIT} bytes of workspace. A shape no algorithm passes for is
 * left to the caller's im2col path. The caller brings the workspace (the backend takes it from
 * its caching allocator before it reads the operands' addresses, so that no block freed by a
 * cleaner in between can be one of them).
 *
 * <p>Not thread-safe: the device calls it under its lock, with its context current.
 */
@SuppressWarnings("restricted") // reading cuDNN's error strings; native access is granted on the command line
public final class ForeignCudnn implements AutoCloseable {

    /** System property: {@code false} keeps the im2col path even where cuDNN loads. */
    public static final String PROPERTY = "adjoint.cuda.cudnn";
    /** Library file names tried. */
    public static final List<String> LIBRARY_NAMES = List.of("libcudnn.so.9");
    /** Most workspace bytes an algorithm may ask for. */
    public static final long WORKSPACE_LIMIT = 1L << 30;
    /** Shapes whose descriptors are kept. */
    public static final int CACHE_CAPACITY = 64;

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
    private final Map<Shape, Descriptors> cache = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Shape, Descriptors> eldest) {
            if (size() <= CACHE_CAPACITY) {
                return false;
            }
            eldest.getValue().close();
            return true;
        }
    };

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
            getVersion = library.downcall("cudnnGetVersion", FunctionDescriptor.of(JAVA_LONG));
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
            long v;
            try {
                v = (long) getVersion.invokeExact();
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("cuda: cudnnGetVersion failed: " + t, t);
            }
            // cuDNN 9 counts major·10000 + minor·100 + patch (cuDNN 8 counted major·1000).
            return v >= 90000 ? v / 10000 + "." + v % 10000 / 100 + "." + v % 100
                    : v / 1000 + "." + v % 1000 / 100 + "." + v % 100;
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
                throw new IllegalStateException("cuda: " + function + " failed: " + statusName(status)
                        + " (" + status + ")");
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
     * parts ({@code libcudnn_*.so.9}) beside it are loaded first, since it opens them by name.
     *
     * @return the functions
     * @throws IllegalStateException naming the libraries and folders tried, or the missing symbol
     */
    public static Functions load() {
        return bind(NativeLibraries.loadWithEveryCompanion(LIBRARY_NAMES, NativeLibraries.searchDirectories(),
                name -> "libcudnn_"));
    }

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
            throw new IllegalStateException("cuda: cudnnCreate failed: " + t, t);
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
            throw new IllegalStateException("cuda: cudnnSetStream failed: " + t, t);
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
     * One direction of one shape, ready to run: its descriptors, algorithm and workspace size.
     * Valid until the next {@link #prepare} (which may destroy the descriptors of the least
     * recently used shape) or {@link #close}.
     */
    public static final class Call {
        private final Direction direction;
        private final MemorySegment[] operands;
        private final Plan plan;

        private Call(Direction direction, MemorySegment[] operands, Plan plan) {
            this.direction = direction;
            this.operands = operands;
            this.plan = plan;
        }

        /**
         * Workspace the algorithm needs.
         *
         * @return bytes, 0 for none
         */
        public long workspaceBytes() {
            return plan.workspaceBytes;
        }
    }

    /**
     * The descriptors and algorithm of a convolution, made and chosen on the shape's first
     * call in this direction and cached.
     *
     * @param direction which computation
     * @param shape     the sizes
     * @return the call, or {@code null} when no algorithm qualifies for the shape (the caller
     *         takes another path)
     * @throws IllegalStateException naming the cuDNN call and its status when one fails
     */
    public Call prepare(Direction direction, Shape shape) {
        Descriptors descriptors = cache.get(shape);
        if (descriptors == null) {
            descriptors = new Descriptors(shape);
            cache.put(shape, descriptors);
        }
        Plan plan = descriptors.plan(direction);
        return plan.algorithm < 0 ? null : new Call(direction, descriptors.operands(direction), plan);
    }

    /**
     * Queues a prepared convolution on the stream. The three addresses come in cuDNN's order:
     * {@code FORWARD} x, w, y; {@code BACKWARD_DATA} w, dy, dx; {@code BACKWARD_FILTER} x, dy, dw.
     * The result is overwritten (beta 0).
     *
     * @param call      from {@link #prepare}
     * @param first     device address of the first operand
     * @param second    device address of the second operand
     * @param result    device address of the result
     * @param workspace device address of at least {@link Call#workspaceBytes()} bytes (0 when none are needed)
     * @throws IllegalStateException naming the cuDNN call and its status when it fails
     */
    public void run(Call call, long first, long second, long result, long workspace) {
        MemorySegment[] d = call.operands;
        Plan plan = call.plan;
        int status;
        try {
            status = (int) functions.run[call.direction.ordinal()].invokeExact(handle, one, d[0],
                    MemorySegment.ofAddress(first), d[1], MemorySegment.ofAddress(second), plan.convolution,
                    plan.algorithm, MemorySegment.ofAddress(workspace), plan.workspaceBytes, zero, d[2],
                    MemorySegment.ofAddress(result));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cuda: " + call.direction.call + " failed: " + t, t);
        }
        functions.check(status, call.direction.call);
    }

    /**
     * Shapes whose descriptors are cached now (for tests).
     *
     * @return at most {@value #CACHE_CAPACITY}
     */
    public int cachedShapes() {
        return cache.size();
    }

    /** Destroys every cached descriptor, then the handle ({@code cudnnDestroy}). */
    @Override
    public void close() {
        try {
            for (Descriptors descriptors : cache.values()) {
                descriptors.close();
            }
        } finally {
            cache.clear();
            call(functions.destroy, handle, "cudnnDestroy");
        }
    }

    private void call(MethodHandle function, MemorySegment argument, String name) {
        int status;
        try {
            status = (int) function.invokeExact(argument);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cuda: " + name + " failed: " + t, t);
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
            throw new IllegalStateException("cuda: " + name + " failed: " + t, t);
        }
    }

    /** One direction's choice: a convolution descriptor set to the algorithm's math type, the algorithm (-1: none), its workspace. */
    private record Plan(MemorySegment convolution, int algorithm, long workspaceBytes) {
    }

    /** The descriptors of one shape. */
    private final class Descriptors {
        private final Shape shape;
        private final MemorySegment x;
        private final MemorySegment w;
        private final MemorySegment y;
        private final Plan[] plans = new Plan[Direction.values().length];

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
                IllegalStateException e = new IllegalStateException("cuda: cudnnSetFilter4dDescriptor failed: " + t, t);
                destroyQuietly(input, filter, output, e);
                throw e;
            }
            this.x = input;
            this.w = filter;
            this.y = output;
        }

        private void destroyQuietly(MemorySegment input, MemorySegment filter, MemorySegment output, Throwable cause) {
            try {
                if (input != null) {
                    call(functions.destroyTensor, input, "cudnnDestroyTensorDescriptor");
                }
                if (filter != null) {
                    call(functions.destroyFilter, filter, "cudnnDestroyFilterDescriptor");
                }
                if (output != null) {
                    call(functions.destroyTensor, output, "cudnnDestroyTensorDescriptor");
                }
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
                int requested = Math.max(1, count.get(JAVA_INT, 0));
                MemorySegment results = arena.allocate(PERF_BYTES * requested, 8);
                MemorySegment returned = arena.allocate(JAVA_INT);
                MemorySegment[] o = operands(direction);
                // The heuristic's descriptors come in the call's order, the convolution's before the result's.
                status = (int) functions.heuristic[d].invokeExact(handle, o[0], o[1], convolution, o[2], requested,
                        returned, results);
                functions.check(status, direction.heuristic);
                int found = Math.min(requested, returned.get(JAVA_INT, 0));
                for (int i = 0; i < found; i++) {
                    long at = i * PERF_BYTES;
                    int algorithm = results.get(JAVA_INT, at);
                    int mathType = results.get(JAVA_INT, at + PERF_MATH);
                    if (results.get(JAVA_INT, at + PERF_STATUS) != 0
                            || results.get(JAVA_INT, at + PERF_DETERMINISM) != DETERMINISTIC
                            || results.get(JAVA_LONG, at + PERF_MEMORY) > WORKSPACE_LIMIT
                            || !(mathType == FMA_MATH || mathType == DEFAULT_MATH || tf32 && mathType == TENSOR_OP_MATH)) {
                        continue;
                    }
                    if (tf32) {
                        // cuDNN picks tensor-core kernels by the algorithm and the descriptor's math type together.
                        functions.check((int) functions.setMathType.invokeExact(convolution, mathType),
                                "cudnnSetConvolutionMathType");
                    }
                    MemorySegment bytes = arena.allocate(JAVA_LONG);
                    status = (int) functions.workspaceSize[d].invokeExact(handle, o[0], o[1], convolution, o[2],
                            algorithm, bytes);
                    functions.check(status, direction.workspace);
                    return new Plan(convolution, algorithm, bytes.get(JAVA_LONG, 0));
                }
                return new Plan(convolution, -1, 0);
            } catch (RuntimeException | Error e) {
                destroyConvolution(convolution, e);
                throw e;
            } catch (Throwable t) {
                IllegalStateException e = new IllegalStateException("cuda: choosing a cuDNN algorithm failed: " + t, t);
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

        void close() {
            for (Plan plan : plans) {
                if (plan != null) {
                    call(functions.destroyConvolution, plan.convolution, "cudnnDestroyConvolutionDescriptor");
                }
            }
            call(functions.destroyTensor, x, "cudnnDestroyTensorDescriptor");
            call(functions.destroyFilter, w, "cudnnDestroyFilterDescriptor");
            call(functions.destroyTensor, y, "cudnnDestroyTensorDescriptor");
        }
    }
}
