package org.adjoint.cuda.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@link Blas} through {@code java.lang.foreign}: a binding of exactly the six cuBLAS entry
 * points the backend uses, for CUDA 13's {@code libcublas.so.13} (JCuda 12.6's JNI library
 * links against {@code libcublas.so.12} and cannot use it).
 */
public final class ForeignBlas implements Blas {

    /** Library file names tried, newest first. */
    public static final List<String> LIBRARY_NAMES = List.of("libcublas.so.13", "libcublas.so.12");
    /** The CUDA major of each of {@link #LIBRARY_NAMES}. */
    static final Map<String, Integer> CUDA_MAJORS = Map.of("libcublas.so.13", 13, "libcublas.so.12", 12);

    private final Functions functions;
    private final MemorySegment handle;
    private final MemorySegment scalars;

    /** The bound entry points of one library. */
    public static final class Functions {
        final NativeLibraries.Loaded library;
        final MethodHandle create;
        final MethodHandle destroy;
        final MethodHandle setStream;
        final MethodHandle setMathMode;
        final MethodHandle sgemm;
        final MethodHandle sgemmStridedBatched;

        private Functions(NativeLibraries.Loaded library) {
            this.library = library;
            create = library.downcall("cublasCreate_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            destroy = library.downcall("cublasDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
            setStream = library.downcall("cublasSetStream_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
            setMathMode = library.downcall("cublasSetMathMode", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
            sgemm = library.downcall("cublasSgemm_v2", FunctionDescriptor.of(JAVA_INT,
                    ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                    ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
            sgemmStridedBatched = library.downcall("cublasSgemmStridedBatched", FunctionDescriptor.of(JAVA_INT,
                    ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                    ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, JAVA_INT, JAVA_LONG,
                    ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT));
        }

        /**
         * Where the library was found.
         *
         * @return a file name or path
         */
        public String location() {
            return library.location();
        }
    }

    private ForeignBlas(Functions functions, MemorySegment handle) {
        this.functions = functions;
        this.handle = handle;
        this.scalars = Arena.global().allocate(JAVA_FLOAT, 2);
    }

    /**
     * Binds the entry points of an already loaded library; touches no device.
     *
     * @param library a cuBLAS library
     * @return the functions
     * @throws IllegalStateException naming the first symbol the library lacks
     */
    public static Functions bind(NativeLibraries.Loaded library) {
        return new Functions(library);
    }

    /**
     * Loads {@code libcublas.so.13} (or {@code .12}) from the usual places and binds it.
     *
     * @return the functions
     * @throws IllegalStateException naming the libraries and folders tried, or the missing symbol
     */
    public static Functions load() {
        // libcublas needs libcublasLt of the same release; loaded beforehand from the same folder, it is found.
        return bind(NativeLibraries.load(LIBRARY_NAMES, NativeLibraries.searchDirectories(),
                name -> name.replace("libcublas.so", "libcublasLt.so")));
    }

    /**
     * Creates a handle on {@code stream}; the CUDA context must be current.
     *
     * @param functions a bound library
     * @param stream    the backend's {@code CUstream}, as an address
     * @param tf32      whether products may use TF32 tensor cores
     * @return the binding
     * @throws IllegalStateException when a cuBLAS call fails
     */
    public static ForeignBlas open(Functions functions, long stream, boolean tf32) {
        MemorySegment handle;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            Blas.check((int) functions.create.invokeExact(out), "cublasCreate_v2");
            handle = out.get(ADDRESS, 0);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cuda: cublasCreate_v2 failed: " + t, t);
        }
        ForeignBlas blas = new ForeignBlas(functions, handle);
        try {
            Blas.check((int) functions.setStream.invokeExact(handle, MemorySegment.ofAddress(stream)), "cublasSetStream_v2");
            Blas.check((int) functions.setMathMode.invokeExact(handle, tf32 ? TF32_TENSOR_OP_MATH : DEFAULT_MATH),
                    "cublasSetMathMode");
        } catch (RuntimeException | Error e) {
            blas.close();
            throw e;
        } catch (Throwable t) {
            blas.close();
            throw new IllegalStateException("cuda: configuring the cuBLAS handle failed: " + t, t);
        }
        return blas;
    }

    /** From the file name asked for ({@link #CUDA_MAJORS}): {@code libcublas.so.13} is CUDA 13's. */
    @Override
    public int cudaMajor() {
        Integer major = CUDA_MAJORS.get(functions.library.name());
        if (major == null) {
            throw new IllegalStateException("cuda: no CUDA major is known for " + functions.library.name());
        }
        return major;
    }

    /** The folder it was found in, or {@code null} when the dynamic linker found it by name. */
    @Override
    public Path libraryFolder() {
        String location = functions.location();
        return location.contains("/") ? Path.of(location).getParent() : null;
    }

    @Override
    public String description() {
        return "java.lang.foreign (" + functions.location() + ")";
    }

    @Override
    public void sgemm(ColumnMajorGemm call, float alpha, long a, long b, float beta, long c) {
        // Host pointer mode: cuBLAS reads alpha and beta during the call, so one pair of floats serves every call.
        scalars.setAtIndex(JAVA_FLOAT, 0, alpha);
        scalars.setAtIndex(JAVA_FLOAT, 1, beta);
        MemorySegment alphaPointer = scalars;
        MemorySegment betaPointer = scalars.asSlice(Float.BYTES);
        int status;
        try {
            if (call.batchCount() == 1) {
                status = (int) functions.sgemm.invokeExact(handle, call.opA(), call.opB(), call.m(), call.n(), call.k(),
                        alphaPointer, MemorySegment.ofAddress(a), call.lda(), MemorySegment.ofAddress(b), call.ldb(),
                        betaPointer, MemorySegment.ofAddress(c), call.ldc());
            } else {
                status = (int) functions.sgemmStridedBatched.invokeExact(handle, call.opA(), call.opB(),
                        call.m(), call.n(), call.k(), alphaPointer, MemorySegment.ofAddress(a), call.lda(), call.strideA(),
                        MemorySegment.ofAddress(b), call.ldb(), call.strideB(), betaPointer, MemorySegment.ofAddress(c),
                        call.ldc(), call.strideC(), call.batchCount());
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cuda: cublasSgemm failed: " + t, t);
        }
        Blas.check(status, call.batchCount() == 1 ? "cublasSgemm_v2" : "cublasSgemmStridedBatched", call);
    }

    @Override
    public void close() {
        int status;
        try {
            status = (int) functions.destroy.invokeExact(handle);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cuda: cublasDestroy_v2 failed: " + t, t);
        }
        Blas.check(status, "cublasDestroy_v2");
    }
}
