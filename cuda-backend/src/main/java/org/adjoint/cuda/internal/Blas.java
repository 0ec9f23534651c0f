package org.adjoint.cuda.internal;

/**
 * The few cuBLAS calls the backend makes, on one handle bound to the backend's stream. Two
 * implementations: {@link JCublasBlas} (JCublas2, for CUDA 12's {@code libcublas.so.12}) and
 * {@link ForeignBlas} ({@code java.lang.foreign}, for CUDA 13's {@code libcublas.so.13},
 * which JCuda 12.6's JNI library cannot bind because of its versioned symbols).
 */
public interface Blas extends AutoCloseable {

    /** {@code CUBLAS_DEFAULT_MATH}: full float32 products. */
    int DEFAULT_MATH = 0;
    /** {@code CUBLAS_TF32_TENSOR_OP_MATH}: float32 products may round their inputs to TF32 on tensor cores. */
    int TF32_TENSOR_OP_MATH = 3;

    /**
     * Which binding and library this is, for the log line.
     *
     * @return for example {@code JCublas2 (libcublas.so.12)}
     */
    String description();

    /**
     * The CUDA major version of the cuBLAS in use, and so of the CUDA runtime it brings into the
     * process (cuDNN must be built for the same one).
     *
     * @return for example {@code 13} for {@code libcublas.so.13}
     */
    int cudaMajor();

    /**
     * The folder the library was loaded from, where a cuDNN for the same CUDA is looked for first.
     *
     * @return the folder, or {@code null} when unknown (found by the dynamic linker, or loaded by JCuda)
     */
    default java.nio.file.Path libraryFolder() {
        return null;
    }

    /**
     * {@code cublasSgemm_v2} when the batch is one product, else
     * {@code cublasSgemmStridedBatched}; queued on the stream.
     *
     * @param call  the arguments
     * @param alpha scale of the product
     * @param a     device address of cuBLAS's A (the engine's B)
     * @param b     device address of cuBLAS's B (the engine's A)
     * @param beta  scale of C's previous contents
     * @param c     device address of C
     */
    void sgemm(ColumnMajorGemm call, float alpha, long a, long b, float beta, long c);

    /** {@code cublasDestroy_v2}. */
    @Override
    void close();

    /**
     * The name of a {@code cublasStatus_t}.
     *
     * @param status the value
     * @return for example {@code CUBLAS_STATUS_NOT_INITIALIZED}
     */
    static String statusName(int status) {
        return switch (status) {
            case 0 -> "CUBLAS_STATUS_SUCCESS";
            case 1 -> "CUBLAS_STATUS_NOT_INITIALIZED";
            case 3 -> "CUBLAS_STATUS_ALLOC_FAILED";
            case 7 -> "CUBLAS_STATUS_INVALID_VALUE";
            case 8 -> "CUBLAS_STATUS_ARCH_MISMATCH";
            case 11 -> "CUBLAS_STATUS_MAPPING_ERROR";
            case 13 -> "CUBLAS_STATUS_EXECUTION_FAILED";
            case 14 -> "CUBLAS_STATUS_INTERNAL_ERROR";
            case 15 -> "CUBLAS_STATUS_NOT_SUPPORTED";
            case 16 -> "CUBLAS_STATUS_LICENSE_ERROR";
            default -> "cublasStatus_t " + status;
        };
    }

    /**
     * Throws unless a cuBLAS call succeeded.
     *
     * @param status   what it returned
     * @param function its name
     * @throws IllegalStateException naming the call and the status
     */
    static void check(int status, String function) {
        if (status != 0) {
            throw new IllegalStateException("cuda: " + function + " failed: " + statusName(status));
        }
    }

    /**
     * {@link #check(int, String)} for a product: on failure the message also names the call's
     * sizes, leading dimensions and batch (built only then: a product's success path stays cheap).
     */
    static void check(int status, String function, ColumnMajorGemm call) {
        if (status != 0) {
            check(status, function + " " + call);
        }
    }
}
