package org.adjoint.backend;

/**
 * Layer normalisation over the last axes, seen as {@code [rows, size]}: each row normalised
 * by its own mean and biased variance, then scaled and shifted per column. The defaults are
 * composed from the core (sums, broadcast arithmetic, a square root); a backend overrides
 * them with one pass per row.
 */
public interface NormalizationOps extends BackendCore {

    /**
     * {@code out = (x − mean) · rstd · weight + bias} row by row, with {@code mean} the row's
     * mean and {@code rstd = 1 / √(var + eps)}, {@code var} its biased variance; also writes
     * {@code mean} and {@code rstd}, which {@link #layerNormGrad} reads.
     *
     * <p>The default sums each row, subtracts its mean, sums the squares of that (two passes,
     * as accurate as the composition), and scales: about ten core calls and two temporaries.
     *
     * @param x      input, {@code rows · size} elements
     * @param weight per-column scale, {@code size} elements, or {@code null} for 1
     * @param bias   per-column shift, {@code size} elements, or {@code null} for 0
     * @param rows   number of rows
     * @param size   length of a row (at least 1)
     * @param eps    added to the variance
     * @param out    output, {@code rows · size} elements
     * @param mean   output, {@code rows} elements
     * @param rstd   output, {@code rows} elements
     */
    default void layerNorm(Buffer x, Buffer weight, Buffer bias, int rows, int size, float eps, Buffer out,
                           Buffer mean, Buffer rstd) {
        if (rows == 0) {
            return;
        }
        int[] shape = {rows, size};
        int[] full = {size, 1};
        int[] perRow = {1, 0};
        int[] perColumn = {0, 1};
        Buffer centered = allocate((long) rows * size);
        Buffer variance = allocate(rows);
        Buffer inverseSize = upload(new float[] {1f / size});
        Buffer epsilon = upload(new float[] {eps});
        try {
            sumTo(x, shape, mean, perRow);
            binary(BinaryOp.MUL, mean, new int[] {1}, inverseSize, new int[] {0}, mean, new int[] {rows});
            binary(BinaryOp.SUB, x, full, mean, perRow, centered, shape);
            binary(BinaryOp.MUL, centered, full, centered, full, out, shape);
            sumTo(out, shape, variance, perRow);
            binary(BinaryOp.MUL, variance, new int[] {1}, inverseSize, new int[] {0}, variance, new int[] {rows});
            binary(BinaryOp.ADD, variance, new int[] {1}, epsilon, new int[] {0}, variance, new int[] {rows});
            unary(UnaryOp.SQRT, 0f, variance, variance);
            unary(UnaryOp.POW, -1f, variance, rstd);
            binary(BinaryOp.MUL, centered, full, rstd, perRow, out, shape);
            if (weight != null) {
                binary(BinaryOp.MUL, out, full, weight, perColumn, out, shape);
            }
            if (bias != null) {
                binary(BinaryOp.ADD, out, full, bias, perColumn, out, shape);
            }
        } finally {
            release(epsilon);
            release(inverseSize);
            release(variance);
            release(centered);
        }
    }

    /**
     * The gradients of {@link #layerNorm} for the output's cotangent {@code dy}, from the
     * saved {@code mean} and {@code rstd}: with {@code x̂ = (x − mean) · rstd} and
     * {@code g = dy · weight}, {@code dx = rstd · (g − mean(g) − x̂ · mean(g · x̂))} (means
     * along the row) and {@code dweight = Σ_rows dy · x̂}. The bias's gradient, {@code Σ_rows dy},
     * is a plain sum and not computed here.
     *
     * @param x         the forward input, {@code rows · size} elements
     * @param weight    the forward weight, or {@code null} for 1
     * @param mean      the forward mean, {@code rows} elements
     * @param rstd      the forward reciprocal standard deviation, {@code rows} elements
     * @param cotangent {@code dy}, {@code rows · size} elements
     * @param rows      number of rows
     * @param size      length of a row (at least 1)
     * @param dx        output, {@code rows · size} elements, or {@code null} when not wanted
     * @param dweight   output, {@code size} elements, or {@code null} when not wanted
     */
    default void layerNormGrad(Buffer x, Buffer weight, Buffer mean, Buffer rstd, Buffer cotangent, int rows,
                               int size, Buffer dx, Buffer dweight) {
        int[] shape = {rows, size};
        int[] full = {size, 1};
        int[] perRow = {1, 0};
        int[] perColumn = {0, 1};
        if (rows == 0) {
            if (dweight != null) {
                fill(dweight, 0f);
            }
            return;
        }
        Buffer normalized = allocate((long) rows * size);
        Buffer product = allocate((long) rows * size);
        try {
            binary(BinaryOp.SUB, x, full, mean, perRow, normalized, shape);
            binary(BinaryOp.MUL, normalized, full, rstd, perRow, normalized, shape);
            if (dweight != null) {
                binary(BinaryOp.MUL, cotangent, full, normalized, full, product, shape);
                sumTo(product, shape, dweight, perColumn);
            }
            if (dx == null) {
                return;
            }
            Buffer g = cotangent;
            if (weight != null) {
                binary(BinaryOp.MUL, cotangent, full, weight, perColumn, dx, shape);
                g = dx;
            }
            Buffer sumG = allocate(rows);
            Buffer sumGx = allocate(rows);
            Buffer inverseSize = upload(new float[] {1f / size});
            try {
                sumTo(g, shape, sumG, perRow);
                binary(BinaryOp.MUL, g, full, normalized, full, product, shape);
                sumTo(product, shape, sumGx, perRow);
                binary(BinaryOp.MUL, sumG, new int[] {1}, inverseSize, new int[] {0}, sumG, new int[] {rows});
                binary(BinaryOp.MUL, sumGx, new int[] {1}, inverseSize, new int[] {0}, sumGx, new int[] {rows});
                binary(BinaryOp.MUL, normalized, full, sumGx, perRow, product, shape);
                binary(BinaryOp.SUB, g, full, sumG, perRow, dx, shape);
                binary(BinaryOp.SUB, dx, full, product, full, dx, shape);
                binary(BinaryOp.MUL, dx, full, rstd, perRow, dx, shape);
            } finally {
                release(inverseSize);
                release(sumGx);
                release(sumG);
            }
        } finally {
            release(product);
            release(normalized);
        }
    }
}
