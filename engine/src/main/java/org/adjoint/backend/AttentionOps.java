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
 *
 * <p>The engine calls the forms that take each operand's {@link Rows} (the heads of a
 * {@code [batch, time, heads, width]} tensor read as {@code [batch, heads, time, width]} without
 * a copy); their defaults gather operands that are not packed into packed copies, run the
 * packed forms and scatter the results, so a backend may override either.
 */
public interface AttentionOps extends SoftmaxOps {

    /** The most score elements the composed defaults hold at a time (one batch item at least). */
    int CHUNK_ELEMENTS = 1 << 22;

    /**
     * Where the rows of a batch of matrices lie in a buffer: element {@code c} of row {@code r}
     * of batch item {@code (i0, i1, ...)} is at
     * {@code offset + Σ ia·batchStrides[a] + r·rowStride + c}; each row is contiguous.
     *
     * @param offset       where item 0's row 0 starts
     * @param batchStrides one stride per batch axis (0 repeats an item)
     * @param rowStride    elements between consecutive rows of an item
     */
    record Rows(long offset, int[] batchStrides, int rowStride) {

        /**
         * Items of {@code rows × width} packed one after another from {@code offset}.
         *
         * @param offset     where the first row starts
         * @param batchShape the batch axes
         * @param rows       rows per item
         * @param width      elements per row
         * @return the layout
         */
        public static Rows packed(long offset, int[] batchShape, int rows, int width) {
            int[] strides = new int[batchShape.length];
            int stride = rows * width;
            for (int a = batchShape.length - 1; a >= 0; a--) {
                strides[a] = stride;
                stride *= batchShape[a];
            }
            return new Rows(offset, strides, width);
        }

        /**
         * The strides of the whole operand, {@code [batch..., rows, width]}, for a strided copy.
         *
         * @return batch strides, the row stride, then 1
         */
        public int[] strides() {
            int[] strides = java.util.Arrays.copyOf(batchStrides, batchStrides.length + 2);
            strides[batchStrides.length] = rowStride;
            strides[batchStrides.length + 1] = 1;
            return strides;
        }

        /** Whether the items are packed from {@code at}, as the packed forms read them. */
        boolean packedAt(long at, int[] batchShape, int rows, int width) {
            Rows packed = packed(at, batchShape, rows, width);
            if (offset != at || (rows > 1 && rowStride != width)) {
                return false;
            }
            for (int a = 0; a < batchShape.length; a++) {
                if (batchShape[a] > 1 && batchStrides[a] != packed.batchStrides[a]) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * {@link #attention(Buffer, Buffer, Buffer, int, int, int, int, int, boolean, float, Buffer, Buffer)}
     * on operands that lie where their {@link Rows} say, over the batch axes {@code batchShape}
     * (the log-sum-exp packed {@code [batch..., t]}). The default gathers each operand that is
     * not packed from offset 0 into a packed copy, runs the packed form and scatters the output.
     *
     * @param q          queries, {@code t} rows of {@code d} per item
     * @param qRows      where they lie
     * @param k          keys, {@code s} rows of {@code d}
     * @param kRows      where they lie
     * @param v          values, {@code s} rows of {@code dv}
     * @param vRows      where they lie
     * @param batchShape the batch axes
     * @param t          query length
     * @param s          key length, at least 1
     * @param d          query and key width
     * @param dv         value width
     * @param causal     whether query {@code i} sees only keys {@code j ≤ i}
     * @param scale      the factor of the scores
     * @param out        output, {@code t} rows of {@code dv}
     * @param outRows    where they go
     * @param logSumExp  per query row, {@code [batch..., t]}
     */
    default void attention(Buffer q, Rows qRows, Buffer k, Rows kRows, Buffer v, Rows vRows, int[] batchShape, int t,
                           int s, int d, int dv, boolean causal, float scale, Buffer out, Rows outRows,
                           Buffer logSumExp) {
        int batch = batchItems(batchShape);
        java.util.List<Buffer> temporary = new java.util.ArrayList<>();
        try {
            Buffer packedQ = gather(this, q, qRows, batchShape, t, d, temporary);
            Buffer packedK = gather(this, k, kRows, batchShape, s, d, temporary);
            Buffer packedV = gather(this, v, vRows, batchShape, s, dv, temporary);
            boolean direct = outRows.packedAt(0, batchShape, t, dv);
            Buffer packedOut = direct ? out : allocateUninitialized((long) batch * t * dv);
            if (!direct) {
                temporary.add(packedOut);
            }
            attention(packedQ, packedK, packedV, batch, t, s, d, dv, causal, scale, packedOut, logSumExp);
            if (!direct) {
                scatter(this, packedOut, out, outRows, batchShape, t, dv);
            }
        } finally {
            temporary.forEach(this::release);
        }
    }

    /**
     * {@link #attentionGrad(Buffer, Buffer, Buffer, Buffer, Buffer, Buffer, int, int, int, int, int, boolean, float, Buffer)}
     * on operands that lie where their {@link Rows} say, writing {@code dq}, {@code dk} and
     * {@code dv} into {@code grads} where theirs say (every element of their rows). The
     * default gathers, runs the packed form and scatters.
     *
     * @param q          queries, {@code t} rows of {@code d} per item
     * @param qRows      where they lie
     * @param k          keys, {@code s} rows of {@code d}
     * @param kRows      where they lie
     * @param v          values, {@code s} rows of {@code dv}
     * @param vRows      where they lie
     * @param out        the forward output, {@code t} rows of {@code dv}
     * @param outRows    where it lies
     * @param logSumExp  what the forward wrote, {@code [batch..., t]}
     * @param dOut       the output's cotangent, {@code t} rows of {@code dv}
     * @param dOutRows   where it lies
     * @param batchShape the batch axes
     * @param t          query length
     * @param s          key length, at least 1
     * @param d          query and key width
     * @param dv         value width
     * @param causal     whether query {@code i} sees only keys {@code j ≤ i}
     * @param scale      the factor of the scores
     * @param grads      where the three gradients go
     * @param dqRows     {@code dq}'s rows in {@code grads}, {@code t} of {@code d}
     * @param dkRows     {@code dk}'s rows, {@code s} of {@code d}
     * @param dvRows     {@code dv}'s rows, {@code s} of {@code dv}
     */
    default void attentionGrad(Buffer q, Rows qRows, Buffer k, Rows kRows, Buffer v, Rows vRows, Buffer out,
                               Rows outRows, Buffer logSumExp, Buffer dOut, Rows dOutRows, int[] batchShape, int t,
                               int s, int d, int dv, boolean causal, float scale, Buffer grads, Rows dqRows,
                               Rows dkRows, Rows dvRows) {
        int batch = batchItems(batchShape);
        long dkAt = (long) batch * t * d;
        long dvAt = dkAt + (long) batch * s * d;
        java.util.List<Buffer> temporary = new java.util.ArrayList<>();
        try {
            Buffer packedQ = gather(this, q, qRows, batchShape, t, d, temporary);
            Buffer packedK = gather(this, k, kRows, batchShape, s, d, temporary);
            Buffer packedV = gather(this, v, vRows, batchShape, s, dv, temporary);
            Buffer packedOut = gather(this, out, outRows, batchShape, t, dv, temporary);
            Buffer packedDOut = gather(this, dOut, dOutRows, batchShape, t, dv, temporary);
            boolean direct = dqRows.packedAt(0, batchShape, t, d)
                    && dkRows.packedAt(dkAt, batchShape, s, d)
                    && dvRows.packedAt(dvAt, batchShape, s, dv);
            Buffer packedGrads = direct ? grads : allocateUninitialized(dvAt + (long) batch * s * dv);
            if (!direct) {
                temporary.add(packedGrads);
            }
            attentionGrad(packedQ, packedK, packedV, packedOut, logSumExp, packedDOut, batch, t, s, d, dv, causal,
                    scale, packedGrads);
            if (!direct) {
                scatter(this, packedGrads, 0, grads, dqRows, batchShape, t, d);
                scatter(this, packedGrads, dkAt, grads, dkRows, batchShape, s, d);
                scatter(this, packedGrads, dvAt, grads, dvRows, batchShape, s, dv);
            }
        } finally {
            temporary.forEach(this::release);
        }
    }

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
                binary(BinaryOp.SUB, scores, new int[] {s}, logProbabilities, new int[] {s}, rows,
                        new int[] {items * t});
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

    /**
     * The batch items of a batch shape: the product of its axes (1 for none).
     *
     * @param batchShape the batch axes
     * @return the item count
     */
    static int batchItems(int[] batchShape) {
        int batch = 1;
        for (int n : batchShape) {
            batch *= n;
        }
        return batch;
    }

    private static int[] operandShape(int[] batchShape, int rows, int width) {
        int[] shape = java.util.Arrays.copyOf(batchShape, batchShape.length + 2);
        shape[batchShape.length] = rows;
        shape[batchShape.length + 1] = width;
        return shape;
    }

    /** The operand itself when packed from offset 0, else a packed copy (added to {@code temporary}). */
    private static Buffer gather(AttentionOps backend, Buffer x, Rows rows, int[] batchShape, int length, int width,
                                 java.util.List<Buffer> temporary) {
        if (rows.packedAt(0, batchShape, length, width)) {
            return x;
        }
        Buffer packed = backend.allocateUninitialized((long) batchItems(batchShape) * length * width);
        temporary.add(packed);
        backend.copyStrided(x, rows.offset(), rows.strides(), packed, 0, operandShape(batchShape, length, width));
        return packed;
    }

    private static void scatter(AttentionOps backend, Buffer packed, Buffer into, Rows rows, int[] batchShape,
                                int length, int width) {
        scatter(backend, packed, 0, into, rows, batchShape, length, width);
    }

    /** Packed items from {@code at} in {@code packed} copied to where {@code rows} say in {@code into}. */
    private static void scatter(AttentionOps backend, Buffer packed, long at, Buffer into, Rows rows, int[] batchShape,
                                int length, int width) {
        backend.copyStrided(packed, at, Rows.packed(0, batchShape, length, width).strides(), into, rows.offset(),
                rows.strides(), operandShape(batchShape, length, width));
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
