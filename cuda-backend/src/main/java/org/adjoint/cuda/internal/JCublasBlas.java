package org.adjoint.cuda.internal;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.runtime.cudaStream_t;

/** {@link Blas} through JCublas2, which links against CUDA 12's {@code libcublas.so.12}. */
public final class JCublasBlas implements Blas {

    private final cublasHandle handle;
    private final float[] alphaValue = new float[1];
    private final float[] betaValue = new float[1];
    private final Pointer alphaPointer = Pointer.to(alphaValue);
    private final Pointer betaPointer = Pointer.to(betaValue);

    private JCublasBlas(cublasHandle handle) {
        this.handle = handle;
    }

    /**
     * Loads JCublas2 and creates a handle on {@code stream}; the CUDA context must be current.
     *
     * @param stream the backend's stream
     * @param tf32   whether products may use TF32 tensor cores
     * @return the binding
     * @throws LinkageError when JCublas2's natives or {@code libcublas.so.12} do not load
     * @throws IllegalStateException when a cuBLAS call fails
     */
    public static JCublasBlas open(CUstream stream, boolean tf32) {
        JCublas2.setExceptionsEnabled(false);
        cublasHandle handle = new cublasHandle();
        Blas.check(JCublas2.cublasCreate(handle), "cublasCreate_v2");
        JCublasBlas blas = new JCublasBlas(handle);
        try {
            Blas.check(JCublas2.cublasSetStream(handle, new cudaStream_t(stream)), "cublasSetStream_v2");
            Blas.check(JCublas2.cublasSetMathMode(handle, tf32 ? TF32_TENSOR_OP_MATH : DEFAULT_MATH), "cublasSetMathMode");
        } catch (RuntimeException e) {
            blas.close();
            throw e;
        }
        return blas;
    }

    @Override
    public int cudaMajor() {
        return 12;
    }

    @Override
    public String description() {
        return "JCublas2 (libcublas.so.12)";
    }

    @Override
    public void sgemm(ColumnMajorGemm call, float alpha, long a, long b, float beta, long c) {
        // Host pointer mode: cuBLAS reads alpha and beta during the call, so one pair of arrays serves every call.
        alphaValue[0] = alpha;
        betaValue[0] = beta;
        if (call.batchCount() == 1) {
            Blas.check(JCublas2.cublasSgemm(handle, call.opA(), call.opB(), call.m(), call.n(), call.k(),
                    alphaPointer, device(a), call.lda(), device(b), call.ldb(), betaPointer, device(c), call.ldc()),
                    "cublasSgemm_v2", call);
        } else {
            Blas.check(JCublas2.cublasSgemmStridedBatched(handle, call.opA(), call.opB(), call.m(), call.n(), call.k(),
                    alphaPointer, device(a), call.lda(), call.strideA(), device(b), call.ldb(), call.strideB(),
                    betaPointer, device(c), call.ldc(), call.strideC(), call.batchCount()),
                    "cublasSgemmStridedBatched", call);
        }
    }

    private static Pointer device(long address) {
        return new CUdeviceptr().withByteOffset(address);
    }

    @Override
    public void close() {
        Blas.check(JCublas2.cublasDestroy(handle), "cublasDestroy_v2");
    }
}
