package org.adjoint.cuda.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * cuDNN 9's library ({@code libcudnn.so.9}) and the entry points of its legacy convolution API
 * that {@link ForeignCudnn} binds: loading it (only a cuDNN {@value #MAJOR} built for the CUDA
 * major of the cuBLAS in use, see {@link #incompatibility}), its version, and the status checks
 * every call goes through. Touches no device.
 */
@SuppressWarnings("restricted") // reading cuDNN's error strings; native access is granted on the command line
public final class CudnnLibrary {

    /** Library file names tried. */
    public static final List<String> LIBRARY_NAMES = List.of("libcudnn.so.9");
    /** The cuDNN major version bound. */
    public static final int MAJOR = 9;
    /**
     * The parts of cuDNN {@value #MAJOR} that {@code libcudnn.so.9} opens by name:
     * {@code libcudnn_*.so.9}, never another version's parts that may sit in the same folder.
     */
    static final Predicate<String> COMPANION = NativeLibraries.versionedParts("libcudnn_", MAJOR);

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

    private CudnnLibrary(NativeLibraries.Loaded library) {
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
        for (CudnnShape.Direction direction : CudnnShape.Direction.values()) {
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
        } catch (Error e) {
            throw e;
        } catch (Throwable t) {
            // The number alone below: the name only decorates the message of a failed call.
        }
        return "cudnnStatus_t " + status;
    }

    void check(int status, String function) {
        if (status != 0) {
            throw new CudnnException(function, status, "cuda: " + function + " failed: " + statusName(status)
                    + " (" + status + ")", null);
        }
    }

    /**
     * Binds the entry points of an already loaded library; touches no device.
     *
     * @param library a cuDNN library
     * @return the functions
     * @throws IllegalStateException naming the first symbol the library lacks
     */
    public static CudnnLibrary bind(NativeLibraries.Loaded library) {
        return new CudnnLibrary(library);
    }

    /**
     * Loads {@code libcudnn.so.9} and binds it: first through the dynamic linker, then from
     * {@code first} (the folder of the cuBLAS in use, where PyTorch's wheels and toolkits keep
     * cuDNN beside it) and the usual places ({@link NativeLibraries#searchDirectories()}, which
     * include the {@code nvidia/cudnn/lib} folder of PyTorch's wheels). A library that is not
     * cuDNN {@value #MAJOR}, or is built for another CUDA major ({@link #incompatibility}), is
     * passed over for the next place, before any of its parts is loaded. Found in a folder, the
     * accepted library's parts ({@code libcudnn_*.so.9}, of no other version) beside it are loaded
     * next, since it opens them by name; those that do not load are named in
     * {@link NativeLibraries.Loaded#companionFailures()}.
     *
     * @param cudaMajor the CUDA major of the cuBLAS in use
     * @param first     a folder to look in before the usual places, or {@code null}
     * @return the functions
     * @throws IllegalStateException naming the libraries and folders tried and why each found one
     *                               was passed over
     */
    public static CudnnLibrary load(int cudaMajor, Path first) {
        Set<Path> directories = new LinkedHashSet<>();
        if (first != null) {
            directories.add(first);
        }
        directories.addAll(NativeLibraries.searchDirectories());
        NativeLibraries.Loaded loaded = NativeLibraries.loadWithEveryCompanion(LIBRARY_NAMES,
                new ArrayList<>(directories), name -> COMPANION, candidate -> {
                    try {
                        return new CudnnLibrary(candidate).incompatibility(cudaMajor);
                    } catch (RuntimeException e) {
                        return e.getMessage();
                    }
                });
        return new CudnnLibrary(loaded);
    }

    /**
     * The parts of cuDNN that did not load beside it, each with its last error.
     *
     * @return empty when all loaded (or the dynamic linker found the library)
     */
    public List<String> companionFailures() {
        return library.companionFailures();
    }

    /**
     * Runs a cuDNN call of one pointer argument, checking its status.
     *
     * @param function the call
     * @param argument its argument
     * @param name     its C name
     * @throws CudnnException naming the call and its status when it fails
     */
    void call(MethodHandle function, MemorySegment argument, String name) {
        int status;
        try {
            status = (int) function.invokeExact(argument);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new CudnnException(name, -1, "cuda: " + name + " failed: " + t, t);
        }
        check(status, name);
    }

    /**
     * Runs a cuDNN create call ({@code cudnnCreate*(T* out)}), checking its status.
     *
     * @param function the call
     * @param name     its C name
     * @return what it created
     * @throws CudnnException naming the call and its status when it fails
     */
    MemorySegment create(MethodHandle function, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int status = (int) function.invokeExact(out);
            check(status, name);
            return out.get(ADDRESS, 0);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new CudnnException(name, -1, "cuda: " + name + " failed: " + t, t);
        }
    }
}
