package org.adjoint.kernels;

/** The plain-Java provider: {@link ScalarGemm}, and the loops of {@link ElementWise}, {@link Strided} and {@link AxisReductions}. */
public final class ScalarKernels implements KernelProvider {

    /** The only instance. */
    public static final ScalarKernels INSTANCE = new ScalarKernels();

    private ScalarKernels() {
    }

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
                      float beta, float[] c, int cOffset, int ldc) {
        ScalarGemm.sgemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb,
                beta, c, cOffset, ldc);
    }

    @Override
    public void biasActivation(Fused.Activation activation, float[] y, float[] bias, int rows, int cols) {
        Parallel.rows(rows, Math.max(1, ElementWise.MEMORY_GRAIN / Math.max(1, cols)),
                (first, end) -> Fused.biasActivation(activation, y, bias, first, end, cols));
    }

    @Override
    public void activationGrad(Fused.Activation activation, float[] y, float[] cotangent, float[] out, int n) {
        Fused.activationGrad(activation, y, cotangent, out, n);
    }

    @Override
    public void axpy(float alpha, float[] x, float[] y, int n) {
        ElementWise.axpy(alpha, x, y, n);
    }

    @Override
    public void adam(float[] p, float[] g, float[] m, float[] v, int n, float beta1, float beta2,
                     float sqrtCorrection2, float epsilon, float step, float decay, float shrink) {
        if (!Parallel.splits(n, ElementWise.ADAM_GRAIN)) {
            // No ranges object: a warm optimizer step allocates nothing (OptimizerAllocationTest).
            ElementWise.adamRange(p, g, m, v, 0, n, beta1, beta2, sqrtCorrection2, epsilon, step, decay, shrink);
            return;
        }
        Parallel.ranges(n, ElementWise.ADAM_GRAIN, (from, to) -> ElementWise.adamRange(p, g, m, v, from, to, beta1,
                beta2, sqrtCorrection2, epsilon, step, decay, shrink));
    }

    @Override
    public void sumsOfSquares(float[][] xs, int count, float[] out) {
        Parallel.run(count, k -> out[k] = StridedSum.scalarSumOfSquares(xs[k]));
    }

    @Override
    public void adam(float[][] p, float[][] g, float[][] m, float[][] v, int count, float beta1, float beta2,
                     float sqrtCorrection2, float epsilon, float step, float decay, float shrink) {
        Parallel.endToEnd(ElementWise.starts(count, k -> p[k].length), ElementWise.ADAM_GRAIN, (k, from, to) ->
                ElementWise.adamRange(p[k], g[k], m[k], v[k], from, to, beta1, beta2, sqrtCorrection2, epsilon, step, decay,
                        shrink));
    }

    @Override
    public void unary(ElementWise.Unary function, float parameter, float[] x, int xOffset, float[] out, int outOffset, int n) {
        Parallel.ranges(n, ElementWise.grain(function), (from, to) ->
                ElementWise.apply(function, parameter, x, xOffset + from, out, outOffset + from, to - from));
    }

    @Override
    public void unaryTimes(ElementWise.Unary function, float[] x, float[] grad, float[] out, int n) {
        if (!ElementWise.fusesTimes(function)) {
            throw ElementWise.unfused(function);
        }
        Parallel.ranges(n, ElementWise.grain(function), (from, to) ->
                ElementWise.applyTimes(function, x, from, grad, from, out, from, to - from));
    }

    @Override
    public void binary(Strided.Binary function, float[] lhs, int[] lhsStrides, float[] rhs, int[] rhsStrides,
                       float[] out, int[] shape) {
        Strided.binary(function, lhs, 0, lhsStrides, rhs, 0, rhsStrides, out, 0, shape);
    }

    @Override
    public void sumTo(float[] src, int[] shape, float[] out, int[] outStrides) {
        Strided.sumTo(src, 0, shape, out, 0, outStrides, out.length);
    }

    @Override
    public void softmax(float[] x, int outer, int length, int inner, boolean log, float[] out) {
        // Rows across the kernel threads: each row is done by the same code wherever it falls.
        int minimum = (int) Math.max(1, ElementWise.SOFTMAX_GRAIN / Math.max(1L, (long) length * inner));
        Parallel.rows(outer, minimum, (from, to) -> AxisReductions.softmax(x, from, to, length, inner, log, out));
    }
}
