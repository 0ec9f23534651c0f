package org.adjoint.backend;

/**
 * Scaled dot-product attention over a batch of {@code [T, d]} queries against {@code [S, d]}
 * keys and {@code [S, dv]} values, forward and backward, composed from the core and {@link SoftmaxOps}: batched
 * GEMMs, a softmax and element-wise operations on the scores of a few batch items at a time.
 *
 * <p>A backend with a fused kernel overrides both methods (the backward reads the log-sum-exp
 * its own forward wrote): it need never hold the {@code T × S} scores of all batch items at
 * once. The defaults hold the scores of at most {@link #CHUNK_ELEMENTS} elements (at least one
 * batch item) at a time.
 */
public interface AttentionOps extends SoftmaxOps {

    /** The most score elements the composed defaults hold at a time (one batch item at least). */
    int CHUNK_ELEMENTS = 1 << 22;

    /**
     * {@code out = softmax(scale · q·kᵀ + mask)·v} for each batch item, and each query row's
     * {@code logSumExp = log Σ_j exp(scale · q_i·k_j)} over the keys it sees. With
     * {@code causal}, query {@code i} sees keys {@code j ≤ i} (PyTorch's {@code is_causal},
     * aligned at the top left); every row sees key 0.
     *
     * @param q         queries, {@code [batch, t, d]}
     * @param k         keys, {@code [batch, s, d]}
     * @param v         values, {@code [batch, s, dv]}
     * @param batch     batch items (all heads of all sequences)
     * @param t         query length
     * @param s         key length, at least 1
     * @param d         query and key width
     * @param dv        value width
     * @param causal    whether query {@code i} sees only keys {@code j ≤ i}
     * @param scale     the factor of the scores, usually {@code 1/√d}
     * @param out       output, {@code [batch, t, dv]}
     * @param logSumExp per query row, {@code [batch, t]}
     */
    default void attention(Buffer q, Buffer k, Buffer v, int batch, int t, int s, int d, int dv, boolean causal,
                           float scale, Buffer out, Buffer logSumExp) {
        if ((long) batch * t == 0) {
            return;
        }
        int chunk = chunk(batch, t, s);
        Buffer scores = allocate((long) chunk * t * s);
        Buffer logProbabilities = allocate((long) chunk * t * s);
        Buffer rows = allocate((long) chunk * t);
        Buffer mask = causal ? causalMask(this, t, s) : null;
        try {
            for (int first = 0; first < batch; first += chunk) {
                int items = Math.min(chunk, batch - first);
                scores(q, k, first, items, t, s, d, scale, mask, scores);
                softmax(scores, items * t, s, 1, true, logProbabilities);
                // log Σ exp(scores) = scores − log-probability, read at key 0, which every row sees.
                binary(BinaryOp.SUB, scores, new int[] {s}, logProbabilities, new int[] {s}, rows, new int[] {items * t});
                copyStrided(rows, 0, new int[] {1}, logSumExp, (long) first * t, new int[] {items * t});
                unary(UnaryOp.EXP, 0f, logProbabilities, logProbabilities);
                gemm(false, false, items, t, dv, s, 1f, logProbabilities, 0, (long) t * s, v, (long) first * s * dv,
                        (long) s * dv, 0f, out, (long) first * t * dv, (long) t * dv);
            }
        } finally {
            if (mask != null) {
                release(mask);
            }
            release(rows);
            release(logProbabilities);
            release(scores);
        }
    }

    /**
     * The gradients of attention with respect to {@code q}, {@code k} and {@code v} given the
     * output's cotangent {@code dOut}, written one after another into {@code grads}: {@code dq}
     * ({@code batch·t·d} elements), then {@code dk} ({@code batch·s·d}), then {@code dv}
     * ({@code batch·s·dv}). With {@code P} the probabilities and {@code dP = dOut·vᵀ}:
     * {@code dv = Pᵀ·dOut}, {@code dS = P ⊙ (dP − rowsum(dOut ⊙ out))},
     * {@code dq = scale · dS·k}, {@code dk = scale · dSᵀ·q}.
     *
     * <p>The default recomputes the probabilities with a softmax (it reads neither {@code out}
     * nor {@code logSumExp}); a fused kernel recomputes them from {@code logSumExp}.
     *
     * @param q         queries, {@code [batch, t, d]}
     * @param k         keys, {@code [batch, s, d]}
     * @param v         values, {@code [batch, s, dv]}
     * @param out       the forward output, {@code [batch, t, dv]}
     * @param logSumExp what the forward wrote, {@code [batch, t]}
     * @param dOut      the output's cotangent, {@code [batch, t, dv]}
     * @param batch     batch items
     * @param t         query length
     * @param s         key length, at least 1
     * @param d         query and key width
     * @param dv        value width
     * @param causal    whether query {@code i} sees only keys {@code j ≤ i}
     * @param scale     the factor of the scores
     * @param grads     {@code dq}, {@code dk}, {@code dv} one after another
     */
    default void attentionGrad(Buffer q, Buffer k, Buffer v, Buffer out, Buffer logSumExp, Buffer dOut, int batch,
                               int t, int s, int d, int dv, boolean causal, float scale, Buffer grads) {
        long dkAt = (long) batch * t * d;
        long dvAt = dkAt + (long) batch * s * d;
        if ((long) batch * t == 0) {
            fill(grads, 0f);
            return;
        }
        int chunk = chunk(batch, t, s);
        Buffer scores = allocate((long) chunk * t * s);
        Buffer probabilities = allocate((long) chunk * t * s);
        Buffer rows = allocate((long) chunk * t);
        Buffer mask = causal ? causalMask(this, t, s) : null;
        try {
            for (int first = 0; first < batch; first += chunk) {
                int items = Math.min(chunk, batch - first);
                int[] shape = {items * t, s};
                scores(q, k, first, items, t, s, d, scale, mask, scores);
                softmax(scores, items * t, s, 1, false, probabilities);
                // dv = Pᵀ·dOut
                gemm(true, false, items, s, dv, t, 1f, probabilities, 0, (long) t * s, dOut, (long) first * t * dv,
                        (long) t * dv, 0f, grads, dvAt + (long) first * s * dv, (long) s * dv);
                // dP = dOut·vᵀ into the scores, then dS = P ⊙ (dP − Σ_j P ⊙ dP)
                gemm(false, true, items, t, s, dv, 1f, dOut, (long) first * t * dv, (long) t * dv, v,
                        (long) first * s * dv, (long) s * dv, 0f, scores, 0, (long) t * s);
                Buffer product = allocate((long) items * t * s);
                try {
                    binary(BinaryOp.MUL, probabilities, new int[] {s, 1}, scores, new int[] {s, 1}, product, shape);
                    sumTo(product, shape, rows, new int[] {1, 0});
                } finally {
                    release(product);
                }
                binary(BinaryOp.SUB, scores, new int[] {s, 1}, rows, new int[] {1, 0}, scores, shape);
                binary(BinaryOp.MUL, scores, new int[] {s, 1}, probabilities, new int[] {s, 1}, scores, shape);
                // dq = scale·dS·k, dk = scale·dSᵀ·q
                gemm(false, false, items, t, d, s, scale, scores, 0, (long) t * s, k, (long) first * s * d,
                        (long) s * d, 0f, grads, (long) first * t * d, (long) t * d);
                gemm(true, false, items, s, d, t, scale, scores, 0, (long) t * s, q, (long) first * t * d,
                        (long) t * d, 0f, grads, dkAt + (long) first * s * d, (long) s * d);
            }
        } finally {
            if (mask != null) {
                release(mask);
            }
            release(rows);
            release(probabilities);
            release(scores);
        }
    }

    /** {@code scores = scale · q·kᵀ (+ mask)} for {@code items} batch items from {@code first}. */
    private void scores(Buffer q, Buffer k, int first, int items, int t, int s, int d, float scale, Buffer mask,
                        Buffer scores) {
        gemm(false, true, items, t, s, d, scale, q, (long) first * t * d, (long) t * d, k, (long) first * s * d,
                (long) s * d, 0f, scores, 0, (long) t * s);
        if (mask != null) {
            binary(BinaryOp.ADD, scores, new int[] {t * s, s, 1}, mask, new int[] {0, s, 1}, scores,
                    new int[] {items, t, s});
        }
    }

    /** How many batch items the defaults handle at a time. */
    private static int chunk(int batch, int t, int s) {
        return (int) Math.max(1, Math.min(batch, CHUNK_ELEMENTS / Math.max(1L, (long) t * s)));
    }

    /** The additive causal mask {@code [t, s]}: 0 where {@code j ≤ i}, −∞ above. */
    private static Buffer causalMask(AttentionOps backend, int t, int s) {
        float[] mask = new float[t * s];
        for (int i = 0; i < t; i++) {
            for (int j = i + 1; j < s; j++) {
                mask[i * s + j] = Float.NEGATIVE_INFINITY;
            }
        }
        return backend.upload(mask);
    }
}
