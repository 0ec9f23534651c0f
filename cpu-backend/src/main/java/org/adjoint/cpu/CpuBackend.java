package org.adjoint.cpu;

import java.util.Optional;

import org.adjoint.backend.Backend;
import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.Buffer;
import org.adjoint.backend.UnaryOp;
import org.adjoint.kernels.AxisReductions;
import org.adjoint.kernels.ElementWise;
import org.adjoint.kernels.KernelProvider;
import org.adjoint.kernels.Strided;

/**
 * {@link Backend} on the JVM heap: buffers are {@code float[]}, and every method is one
 * call into a {@link KernelProvider} of {@code adjoint-kernels} (Vector API or scalar).
 */
public final class CpuBackend implements Backend {

    private static final ElementWise.Unary[] UNARY = new ElementWise.Unary[UnaryOp.values().length];
    private static final Strided.Binary[] BINARY = new Strided.Binary[BinaryOp.values().length];

    static {
        for (UnaryOp op : UnaryOp.values()) {
            UNARY[op.ordinal()] = ElementWise.Unary.valueOf(op.name());
        }
        for (BinaryOp op : BinaryOp.values()) {
            BINARY[op.ordinal()] = Strided.Binary.valueOf(op.name());
        }
    }

    private final KernelProvider kernels;

    /** Creates the backend with the kernels {@link KernelProvider#lookup()} chooses; {@link java.util.ServiceLoader} calls this. */
    public CpuBackend() {
        this(KernelProvider.lookup());
    }

    /**
     * Creates the backend on the given kernels (tests and benchmarks compare providers).
     *
     * @param kernels the provider
     */
    public CpuBackend(KernelProvider kernels) {
        this.kernels = kernels;
    }

    /**
     * The kernels this backend runs.
     *
     * @return the provider
     */
    public KernelProvider kernels() {
        return kernels;
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Optional<String> unavailableReason() {
        return Optional.empty();
    }

    @Override
    public Buffer allocate(long size) {
        return new CpuBuffer(new float[Math.toIntExact(size)]);
    }

    @Override
    public Buffer upload(float[] data) {
        return new CpuBuffer(data.clone());
    }

    @Override
    public float[] download(Buffer buffer) {
        return data(buffer).clone();
    }

    @Override
    public void gemm(boolean transA, boolean transB, int batch, int m, int n, int k,
                     float alpha, Buffer a, long aStride, Buffer b, long bStride,
                     float beta, Buffer c, long cStride) {
        kernels.sgemmBatched(transA, transB, batch, m, n, k, alpha,
                data(a), 0, Math.toIntExact(aStride), data(b), 0, Math.toIntExact(bStride),
                beta, data(c), 0, Math.toIntExact(cStride));
    }

    @Override
    public void unary(UnaryOp op, float parameter, Buffer x, Buffer out) {
        float[] in = data(x);
        kernels.unary(UNARY[op.ordinal()], parameter, in, 0, data(out), 0, in.length);
    }

    @Override
    public void binary(BinaryOp op, Buffer lhs, int[] lhsStrides, Buffer rhs, int[] rhsStrides, Buffer out, int[] shape) {
        kernels.binary(BINARY[op.ordinal()], data(lhs), lhsStrides, data(rhs), rhsStrides, data(out), shape);
    }

    @Override
    public void copyStrided(Buffer src, int[] srcStrides, Buffer out, int[] shape) {
        Strided.copy(data(src), 0, srcStrides, data(out), 0, shape);
    }

    @Override
    public void sumTo(Buffer src, int[] shape, Buffer out, int[] outStrides) {
        kernels.sumTo(data(src), shape, data(out), outStrides);
    }

    @Override
    public void max(Buffer x, int outer, int length, int inner, Buffer values, Buffer mask) {
        AxisReductions.max(data(x), outer, length, inner, data(values), mask == null ? null : data(mask));
    }

    @Override
    public void softmax(Buffer x, int outer, int length, int inner, boolean log, Buffer out) {
        kernels.softmax(data(x), outer, length, inner, log, data(out));
    }

    private static float[] data(Buffer buffer) {
        if (buffer instanceof CpuBuffer cpu) {
            return cpu.data();
        }
        throw new IllegalArgumentException("cpu backend: cannot use a buffer of another backend ("
                + buffer.getClass().getName() + ")");
    }
}
