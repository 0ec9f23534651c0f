package org.adjoint.kernels;

/**
 * Layer normalisation of a {@link KernelProvider}, forward and gradients; the defaults are the
 * loops of {@link Normalization}.
 */
public interface NormalizationKernels {

    /**
     * Layer normalisation of contiguous rows, as {@link Normalization#layerNorm}.
     *
     * @param x      input, {@code rows · size} elements
     * @param weight {@code size} elements, or {@code null} for 1
     * @param bias   {@code size} elements, or {@code null} for 0
     * @param rows   number of rows
     * @param size   row length, at least 1
     * @param eps    added to the variance
     * @param out    output, {@code rows · size} elements (may be {@code x})
     * @param mean   output, each row's mean
     * @param rstd   output, each row's {@code 1 / √(var + eps)}
     */
    default void layerNorm(float[] x, float[] weight, float[] bias, int rows, int size, float eps, float[] out,
                           float[] mean, float[] rstd) {
        Normalization.layerNorm(x, weight, bias, rows, size, eps, out, mean, rstd);
    }

    /**
     * The gradients of {@link #layerNorm}, as {@link Normalization#layerNormGrad}.
     *
     * @param x       the forward input
     * @param weight  the forward weight, or {@code null} for 1
     * @param mean    the forward means
     * @param rstd    the forward reciprocal standard deviations
     * @param dy      the output's cotangent
     * @param rows    number of rows
     * @param size    row length, at least 1
     * @param dx      output, or {@code null} when not wanted
     * @param dweight output, {@code size} elements (overwritten), or {@code null} when not wanted
     */
    default void layerNormGrad(float[] x, float[] weight, float[] mean, float[] rstd, float[] dy, int rows, int size,
                               float[] dx, float[] dweight) {
        Normalization.layerNormGrad(x, weight, mean, rstd, dy, rows, size, dx, dweight);
    }
}
