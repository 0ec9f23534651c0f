package org.adjoint.cuda;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.adjoint.backend.Backend;
import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.UnaryOp;
import org.adjoint.nn.Activation;

/**
 * Placeholder for the CUDA backend: it takes part in backend discovery and always reports
 * itself unavailable with a reason, so that selection falls back to the CPU and asking for
 * {@code -Dadjoint.backend=cuda} fails with that reason instead of a linkage error.
 */
public final class CudaBackend implements Backend {

    private static final List<String> DRIVER_DIRECTORIES = List.of(
            "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/local/cuda/lib64", "/usr/lib/wsl/lib");

    /** Creates the backend; {@link java.util.ServiceLoader} calls this. */
    public CudaBackend() {
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public Optional<String> unavailableReason() {
        boolean driver = DRIVER_DIRECTORIES.stream().anyMatch(dir -> Files.exists(Path.of(dir, "libcuda.so.1")));
        return Optional.of("the CUDA kernels are not implemented in this version of Adjoint (the CUDA driver "
                + (driver ? "libcuda.so.1 is present" : "libcuda.so.1 was not found") + ")");
    }

    private UnsupportedOperationException unavailable() {
        return new UnsupportedOperationException("cuda backend unavailable: " + unavailableReason().orElseThrow());
    }

    @Override
    public Buffer allocate(long size) {
        throw unavailable();
    }

    @Override
    public Buffer upload(float[] data) {
        throw unavailable();
    }

    @Override
    public float[] download(Buffer buffer) {
        throw unavailable();
    }

    @Override
    public void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha, Buffer a,
                     long aStride, Buffer b, long bStride, float beta, Buffer c, long cStride) {
        throw unavailable();
    }

    @Override
    public void fill(Buffer buffer, float value) {
        throw unavailable();
    }

    @Override
    public void biasActivation(Activation activation, Buffer y, Buffer bias, int rows, int cols) {
        throw unavailable();
    }

    @Override
    public void activationGrad(Activation activation, Buffer y, Buffer cotangent, Buffer out) {
        throw unavailable();
    }

    @Override
    public void negativeLogLikelihood(Buffer logProbabilities, Buffer labels, int rows, int cols, Buffer out) {
        throw unavailable();
    }

    @Override
    public void crossEntropyGrad(Buffer logProbabilities, Buffer labels, int rows, int cols, float scale, Buffer out) {
        throw unavailable();
    }

    @Override
    public void axpy(float alpha, Buffer x, Buffer y) {
        throw unavailable();
    }

    @Override
    public void unary(UnaryOp op, float parameter, Buffer x, Buffer out) {
        throw unavailable();
    }

    @Override
    public void binary(BinaryOp op, Buffer lhs, int[] lhsStrides, Buffer rhs, int[] rhsStrides, Buffer out, int[] shape) {
        throw unavailable();
    }

    @Override
    public void copyStrided(Buffer src, int[] srcStrides, Buffer out, int[] shape) {
        throw unavailable();
    }

    @Override
    public void sumTo(Buffer src, int[] shape, Buffer out, int[] outStrides) {
        throw unavailable();
    }

    @Override
    public void max(Buffer x, int outer, int length, int inner, Buffer values, Buffer mask) {
        throw unavailable();
    }

    @Override
    public void softmax(Buffer x, int outer, int length, int inner, boolean log, Buffer out) {
        throw unavailable();
    }
}
