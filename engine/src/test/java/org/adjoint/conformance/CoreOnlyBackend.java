package org.adjoint.conformance;

import java.util.Optional;

import org.adjoint.DType;
import org.adjoint.backend.Backend;
import org.adjoint.backend.BackendCore;
import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.UnaryOp;

/**
 * A new backend as it starts: it implements the abstract methods of {@link BackendCore} and
 * nothing else (by handing each to a complete backend), so every composed operation (softmax,
 * the fused linear tail, cross-entropy, axpy) runs its default body on that backend's core.
 */
public final class CoreOnlyBackend implements Backend {

    private final Backend core;

    /**
     * Wraps a backend's core.
     *
     * @param core the backend whose required methods do the work
     */
    public CoreOnlyBackend(Backend core) {
        this.core = core;
    }

    @Override
    public String name() {
        return "core-only " + core.name();
    }

    @Override
    public int priority() {
        return -1;
    }

    @Override
    public Optional<String> unavailableReason() {
        return Optional.empty();
    }

    @Override
    public Buffer allocate(DType dtype, long count) {
        return core.allocate(dtype, count);
    }

    @Override
    public Buffer upload(float[] data) {
        return core.upload(data);
    }

    @Override
    public float[] download(Buffer buffer) {
        return core.download(buffer);
    }

    @Override
    public void fill(Buffer buffer, float value) {
        core.fill(buffer, value);
    }

    @Override
    public void cast(Buffer src, Buffer out) {
        core.cast(src, out);
    }

    @Override
    public void copyStrided(Buffer src, long srcOffset, int[] srcStrides, Buffer out, long outOffset, int[] shape) {
        core.copyStrided(src, srcOffset, srcStrides, out, outOffset, shape);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
                     Buffer a, long aOffset, long aStride, Buffer b, long bOffset, long bStride,
                     float beta, Buffer c, long cOffset, long cStride) {
        core.gemm(transA, transB, batch, m, n, k, alpha, a, aOffset, aStride, b, bOffset, bStride, beta, c, cOffset,
                cStride);
    }

    @Override
    public void unary(UnaryOp op, float parameter, Buffer x, Buffer out) {
        core.unary(op, parameter, x, out);
    }

    @Override
    public void binary(BinaryOp op, Buffer lhs, int[] lhsStrides, Buffer rhs, int[] rhsStrides, Buffer out,
                       int[] shape) {
        core.binary(op, lhs, lhsStrides, rhs, rhsStrides, out, shape);
    }

    @Override
    public void sumTo(Buffer src, int[] shape, Buffer out, int[] outStrides) {
        core.sumTo(src, shape, out, outStrides);
    }

    @Override
    public void max(Buffer x, int outer, int length, int inner, Buffer values, Buffer mask) {
        core.max(x, outer, length, inner, values, mask);
    }

    @Override
    public void gather(Buffer src, int outer, int length, int inner, Buffer indices, int count, Buffer out) {
        core.gather(src, outer, length, inner, indices, count, out);
    }

    @Override
    public void scatterAdd(Buffer values, int outer, int count, int inner, Buffer indices, Buffer out, int length) {
        core.scatterAdd(values, outer, count, inner, indices, out, length);
    }
}
