package org.adjoint.kernels;

/**
 * Fusions that save passes over memory in a training step: a bias and an activation applied
 * in place to a GEMM result, the activation's VJP in one pass, and softmax cross-entropy
 * from log-probabilities. Scalar versions; the vector provider overrides the first two.
 */
public final class Fused {

    private Fused() {
    }

    /** Activation functions with a fused forward and VJP. */
    public enum Activation {
        /** {@code y = x}. */
        IDENTITY,
        /** {@code y = max(x, 0)}; derivative 1 where {@code y > 0}. */
        RELU,
        /** {@code y = tanh x}; derivative {@code 1 − y²}. */
        TANH,
        /** {@code y = σ(x)}; derivative {@code y (1 − y)}. */
        SIGMOID
    }

    /**
     * {@code y[r, c] = act(y[r, c] + bias[c])} in place over a {@code rows × cols} matrix.
     *
     * @param activation the function
     * @param y          the matrix, updated in place
     * @param bias       {@code cols} values, or {@code null} for none
     * @param rows       row count
     * @param cols       column count
     */
    public static void biasActivation(Activation activation, float[] y, float[] bias, int rows, int cols) {
        biasActivation(activation, y, bias, 0, rows, cols);
    }

    /** {@link #biasActivation(Activation, float[], float[], int, int)} on rows {@code [first, end)}. */
    static void biasActivation(Activation activation, float[] y, float[] bias, int first, int end, int cols) {
        for (int r = first; r < end; r++) {
            biasActivationRow(activation, y, r * cols, bias, 0, cols);
        }
    }

    /**
     * {@code y[base + c] = act(y[base + c] + bias[c])} for {@code c} in {@code [from, cols)}:
     * one row, or the tail of a row that a vector loop left.
     */
    static void biasActivationRow(Activation activation, float[] y, int base, float[] bias, int from, int cols) {
        for (int c = from; c < cols; c++) {
            float v = bias == null ? y[base + c] : y[base + c] + bias[c];
            y[base + c] = switch (activation) {
                case IDENTITY -> v;
                case RELU -> Math.max(v, 0f);
                case TANH -> (float) Math.tanh(v);
                case SIGMOID -> ElementWise.sigmoid(v);
            };
        }
    }

    /**
     * {@code out = cotangent · act'(x)}, with the derivative written in terms of the
     * activation's output {@code y}.
     *
     * @param activation the function
     * @param y          activation outputs
     * @param cotangent  cotangent of {@code y}
     * @param out        result (may be {@code cotangent})
     * @param n          element count
     */
    public static void activationGrad(Activation activation, float[] y, float[] cotangent, float[] out, int n) {
        activationGrad(activation, y, cotangent, out, 0, n);
    }

    /** {@link #activationGrad(Activation, float[], float[], float[], int)} over {@code [from, n)}. */
    static void activationGrad(Activation activation, float[] y, float[] cotangent, float[] out, int from, int n) {
        switch (activation) {
            case IDENTITY -> System.arraycopy(cotangent, from, out, from, n - from);
            case RELU -> {
                for (int i = from; i < n; i++) {
                    out[i] = y[i] > 0f ? cotangent[i] : 0f;
                }
            }
            case TANH -> {
                for (int i = from; i < n; i++) {
                    out[i] = cotangent[i] * (1f - y[i] * y[i]);
                }
            }
            case SIGMOID -> {
                for (int i = from; i < n; i++) {
                    out[i] = cotangent[i] * (y[i] * (1f - y[i]));
                }
            }
        }
    }

    /**
     * Mean negative log-likelihood of labelled rows: {@code −(1/rows) Σ_r logp[r, label_r]},
     * summed in double.
     *
     * @param logProbabilities {@code rows × cols} log-probabilities
     * @param labels           {@code rows} class indices stored as floats
     * @param rows             row count
     * @param cols             class count
     * @return the mean loss
     */
    public static float meanNegativeLogLikelihood(float[] logProbabilities, float[] labels, int rows, int cols) {
        double sum = 0;
        for (int r = 0; r < rows; r++) {
            sum += logProbabilities[r * cols + (int) labels[r]];
        }
        return rows == 0 ? Float.NaN : (float) (-sum / rows);
    }

    /**
     * VJP of {@code meanNegativeLogLikelihood(logSoftmax(z))} with respect to the logits
     * {@code z}: {@code scale · (softmax(z) − onehot(label))}, with the softmax recovered as
     * {@code e^logp}.
     *
     * @param logProbabilities {@code rows × cols} log-probabilities
     * @param labels           {@code rows} class indices stored as floats
     * @param rows             row count
     * @param cols             class count
     * @param scale            the loss's cotangent divided by {@code rows}
     * @param out              {@code rows × cols} result
     * @throws IndexOutOfBoundsException naming the row when a label is not a whole number in
     *                                   {@code [0, cols)}, before anything is written
     */
    public static void crossEntropyGrad(float[] logProbabilities, float[] labels, int rows, int cols, float scale,
                                        float[] out) {
        for (int r = 0; r < rows; r++) {
            float label = labels[r];
            if (!(label >= 0 && label < cols && label == (int) label)) {
                throw new IndexOutOfBoundsException("crossEntropyGrad: label " + label + " of row " + r
                        + " is not a whole number in [0, " + cols + ")");
            }
        }
        // Rows across the kernel threads (each row the same code wherever it falls).
        Parallel.rows(rows, (int) Math.max(1, ElementWise.SOFTMAX_GRAIN / Math.max(1L, cols)),
                (from, to) -> crossEntropyGrad(logProbabilities, labels, from, to, cols, scale, out));
    }

    private static void crossEntropyGrad(float[] logProbabilities, float[] labels, int from, int to, int cols,
                                         float scale, float[] out) {
        for (int r = from; r < to; r++) {
            int base = r * cols;
            for (int c = 0; c < cols; c++) {
                out[base + c] = scale * (float) Math.exp(logProbabilities[base + c]);
            }
            out[base + (int) labels[r]] -= scale;
        }
    }
}
