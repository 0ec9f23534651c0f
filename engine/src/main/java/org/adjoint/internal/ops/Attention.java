package org.adjoint.internal.ops;

import java.util.Arrays;
import java.util.function.UnaryOperator;

import org.adjoint.Tensor;
import org.adjoint.backend.AttentionOps.Rows;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Layout;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;
import org.adjoint.internal.TensorImpl;

/**
 * Scaled dot-product attention {@code softmax(q·kᵀ/√d + mask)·v} as one primitive (the
 * attribute is whether it is causal), over operands {@code q [..., T, d]}, {@code k [..., S, d]},
 * {@code v [..., S, dv]} whose batch axes are equal (the public entry broadcasts them first).
 *
 * <p>The forward runs the backend's {@code attention}, which on a fused backend never holds
 * the {@code T × S} scores of every batch item at once; it keeps the per-row log-sum-exp as a
 * residual and the primitive saves {@code q}, {@code k}, {@code v} and the output, nothing of
 * size {@code T × S}. An unrecorded backward runs the backend's {@code attentionGrad} once for
 * all three gradients ({@link #shared}), recomputing the probabilities block by block from the
 * log-sum-exp. A recorded backward (for higher derivatives) and the JVP are compositions of
 * matmul, softmax and element-wise operations ({@link #reference} is the whole composition):
 * with {@code P} the probabilities, {@code dv = Pᵀ·dO}, {@code dS = P ⊙ (dO·vᵀ − rowsum(P ⊙ dO·vᵀ))},
 * {@code dq = dS·k/√d}, {@code dk = dSᵀ·q/√d}.
 *
 * <p>Operands are read where they lie when each of their rows is contiguous (the heads of a
 * {@code [batch, time, heads, width]} tensor transposed to {@code [batch, heads, time, width]}
 * are read in place, not copied), and the output and the three gradients are laid out with
 * their batch and row axes in the order of the corresponding operand's strides: for such heads
 * the output is a {@code [batch, heads, time, width]} view of {@code [batch, time, heads, width]}
 * storage, which transposes and reshapes back to {@code [batch, time, heads·width]} without a
 * copy.
 */
public final class Attention extends Primitive<Boolean> {

    private static final Attention ATTENTION = new Attention();
    private static final String NAME = "scaledDotProductAttention";
    private static final int LOG_SUM_EXP = 0;

    private Attention() {
        super(NAME);
    }

    /**
     * The fused attention.
     *
     * @param query  {@code [..., T, d]}
     * @param key    {@code [..., S, d]}
     * @param value  {@code [..., S, dv]}
     * @param causal whether query {@code i} sees only keys {@code j ≤ i}
     * @return {@code [..., T, dv]} over the broadcast batch axes
     * @throws IllegalArgumentException naming the shapes, for a rank below 2, different widths of
     *                                  query and key, different lengths of key and value, an empty
     *                                  key, or batch axes that do not broadcast
     */
    public static Tensor apply(Tensor query, Tensor key, Tensor value, boolean causal) {
        Tensor[] operands = broadcast(query, key, value);
        return Ops.apply(ATTENTION, causal, operands[0], operands[1], operands[2]);
    }

    /**
     * The plain composition the fused primitive is tested against:
     * {@code softmax(q·kᵀ·(1/√d) + mask)·v} with matmul, transpose, mul, a constant additive
     * {@code −∞} mask above the diagonal when causal, and softmax.
     *
     * @param query  {@code [..., T, d]}
     * @param key    {@code [..., S, d]}
     * @param value  {@code [..., S, dv]}
     * @param causal whether query {@code i} sees only keys {@code j ≤ i}
     * @return {@code [..., T, dv]}
     * @throws IllegalArgumentException as {@link #apply}
     */
    public static Tensor reference(Tensor query, Tensor key, Tensor value, boolean causal) {
        return reference(query, key, value, causal, UnaryOperator.identity());
    }

    /**
     * {@link #reference(Tensor, Tensor, Tensor, boolean)} with the attention weights passed
     * through {@code weights} before they meet the values (a dropout of the weights, which the
     * fused primitive never holds).
     *
     * @param query   {@code [..., T, d]}
     * @param key     {@code [..., S, d]}
     * @param value   {@code [..., S, dv]}
     * @param causal  whether query {@code i} sees only keys {@code j ≤ i}
     * @param weights applied to the {@code [..., T, S]} probabilities
     * @return {@code [..., T, dv]}
     * @throws IllegalArgumentException as {@link #apply}
     */
    public static Tensor reference(Tensor query, Tensor key, Tensor value, boolean causal,
                                   UnaryOperator<Tensor> weights) {
        Tensor[] operands = broadcast(query, key, value);
        return weights.apply(probabilities(operands[0], operands[1], causal)).matmul(operands[2]);
    }

    /** Checks the shapes and broadcasts the batch axes of the three operands to one shape. */
    private static Tensor[] broadcast(Tensor query, Tensor key, Tensor value) {
        String[] names = {"query", "key", "value"};
        Tensor[] given = {query, key, value};
        for (int i = 0; i < given.length; i++) {
            if (given[i] == null) {
                throw new IllegalArgumentException(NAME + ": the " + names[i] + " is null");
            }
        }
        int[] qs = Compute.shape(query);
        int[] ks = Compute.shape(key);
        int[] vs = Compute.shape(value);
        String shapes = " (query " + Shapes.str(qs) + ", key " + Shapes.str(ks) + ", value " + Shapes.str(vs) + ")";
        if (qs.length < 2 || ks.length < 2 || vs.length < 2) {
            throw new IllegalArgumentException(NAME + ": operands must have rank at least 2, [..., length, width]"
                    + shapes);
        }
        if (qs[qs.length - 1] != ks[ks.length - 1]) {
            throw new IllegalArgumentException(NAME + ": query width " + qs[qs.length - 1] + " and key width "
                    + ks[ks.length - 1] + " differ" + shapes);
        }
        if (ks[ks.length - 2] != vs[vs.length - 2]) {
            throw new IllegalArgumentException(NAME + ": key length " + ks[ks.length - 2] + " and value length "
                    + vs[vs.length - 2] + " differ" + shapes);
        }
        if (ks[ks.length - 2] == 0) {
            throw new IllegalArgumentException(NAME + ": no keys to attend to" + shapes);
        }
        int[] batch;
        try {
            batch = Shapes.broadcast(NAME, batchAxes(qs), Shapes.broadcast(NAME, batchAxes(ks), batchAxes(vs)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(NAME + ": batch axes do not broadcast" + shapes, e);
        }
        Compute.backend(NAME, query, key, value);
        return new Tensor[] {
            BroadcastTo.apply(query, withLastTwo(batch, qs)),
            BroadcastTo.apply(key, withLastTwo(batch, ks)),
            BroadcastTo.apply(value, withLastTwo(batch, vs))};
    }

    private static int[] batchAxes(int[] shape) {
        return Arrays.copyOf(shape, shape.length - 2);
    }

    private static int[] withLastTwo(int[] batch, int[] shape) {
        int[] out = Arrays.copyOf(batch, batch.length + 2);
        out[batch.length] = shape[shape.length - 2];
        out[batch.length + 1] = shape[shape.length - 1];
        return out;
    }

    /** {@code 1/√d} for operands of width {@code d}. */
    static float scale(int d) {
        return (float) (1 / Math.sqrt(d));
    }

    /** {@code softmax(q·kᵀ/√d + mask)} along the keys, composed (differentiable). */
    private static Tensor probabilities(Tensor q, Tensor k, boolean causal) {
        int[] qs = Compute.shape(q);
        int[] ks = Compute.shape(k);
        Tensor scores = q.matmul(k.transpose()).mul(scale(qs[qs.length - 1]));
        if (causal) {
            int t = qs[qs.length - 2];
            int s = ks[ks.length - 2];
            float[] mask = new float[t * s];
            for (int i = 0; i < t; i++) {
                for (int j = i + 1; j < s; j++) {
                    mask[i * s + j] = Float.NEGATIVE_INFINITY;
                }
            }
            Backend backend = Compute.backend(NAME, q);
            scores = scores.add(Compute.wrap(backend, backend.upload(mask), new int[] {t, s}));
        }
        return scores.softmax(-1);
    }

    /** The sizes of one application: batch items, lengths and widths. */
    private record Dims(int batch, int t, int s, int d, int dv) {
        static Dims of(Tensor q, Tensor k, Tensor v) {
            int[] qs = Compute.shape(q);
            int[] ks = Compute.shape(k);
            int[] vs = Compute.shape(v);
            int r = qs.length;
            int batch = 1;
            for (int i = 0; i < r - 2; i++) {
                batch *= qs[i];
            }
            return new Dims(batch, qs[r - 2], ks[r - 2], qs[r - 1], vs[r - 1]);
        }

        long qSize() {
            return (long) batch * t * d;
        }

        long kSize() {
            return (long) batch * s * d;
        }

        long vSize() {
            return (long) batch * s * dv;
        }
    }

    /**
     * A tensor as the attention kernels read it: its storage and layout where each row (the last
     * axis) is contiguous, else a packed copy and its contiguous layout.
     *
     * @param buffer the elements
     * @param layout where they lie in it
     */
    record Source(Buffer buffer, Layout layout) {
        static Source of(Tensor x) {
            Layout layout = Compute.layout(x);
            int[] shape = layout.shape();
            if (shape[shape.length - 1] <= 1 || layout.strides()[shape.length - 1] == 1) {
                return new Source(Compute.storage(x), layout);
            }
            return new Source(Compute.buffer(x), Layout.contiguous(shape));
        }
    }

    /** An operand as the backend reads it: its {@link Source} and the rows of its batch items. */
    private record Operand(Buffer buffer, Rows rows) {
        static Operand of(Tensor x) {
            Source source = Source.of(x);
            int[] strides = source.layout().strides();
            int r = strides.length;
            return new Operand(source.buffer(), new Rows(source.layout().offset(), Arrays.copyOf(strides, r - 2),
                    strides[r - 2]));
        }
    }

    /**
     * The strides of a new result shaped like {@code operand} but {@code width} wide, packed
     * with the batch and row axes in the order of the operand's strides (largest outermost;
     * axes of length 1 or stride 0 stay outermost in their order), the width innermost.
     */
    private static int[] orderedStrides(Tensor operand, int width) {
        Layout layout = Compute.layout(operand);
        int[] shape = layout.shape();
        int[] own = layout.strides();
        int r = shape.length;
        Integer[] order = new Integer[r - 1];
        for (int a = 0; a < r - 1; a++) {
            order[a] = a;
        }
        Arrays.sort(order, (x, y) -> Long.compare(key(shape, own, y), key(shape, own, x)));
        int[] strides = new int[r];
        strides[r - 1] = 1;
        long stride = width;
        for (int m = r - 2; m >= 0; m--) {
            strides[order[m]] = (int) stride;
            stride *= shape[order[m]];
        }
        return strides;
    }

    private static long key(int[] shape, int[] strides, int axis) {
        return shape[axis] <= 1 || strides[axis] == 0 ? Long.MAX_VALUE : strides[axis];
    }

    /** The rows of a result with these strides, from {@code offset}. */
    private static Rows rows(int[] strides, long offset) {
        int r = strides.length;
        return new Rows(offset, Arrays.copyOf(strides, r - 2), strides[r - 2]);
    }

    /** The shape of {@code operand} with the last axis {@code width} long. */
    private static int[] widthShape(Tensor operand, int width) {
        int[] shape = Compute.shape(operand).clone();
        shape[shape.length - 1] = width;
        return shape;
    }

    @Override
    protected Tensor forward(Boolean causal, Tensor[] inputs, Residuals residuals) {
        Tensor q = inputs[0];
        Tensor k = inputs[1];
        Tensor v = inputs[2];
        Dims n = Dims.of(q, k, v);
        Backend backend = Compute.backend(NAME, q, k, v);
        int[] qs = Compute.shape(q);
        int[] outShape = widthShape(q, n.dv());
        int[] outStrides = orderedStrides(q, n.dv());
        Buffer out = Compute.allocateUninitialized(backend, (long) n.batch() * n.t() * n.dv());
        Buffer logSumExp = Compute.allocateUninitialized(backend, (long) n.batch() * n.t());
        Operand query = Operand.of(q);
        Operand key = Operand.of(k);
        Operand value = Operand.of(v);
        backend.attention(query.buffer(), query.rows(), key.buffer(), key.rows(), value.buffer(), value.rows(),
                batchAxes(qs), n.t(), n.s(), n.d(), n.dv(), causal, scale(n.d()), out, rows(outStrides, 0),
                logSumExp);
        residuals.keep(Compute.wrap(backend, logSumExp, Arrays.copyOf(qs, qs.length - 1)));
        Tensor result = Compute.wrap(backend, out, outShape);
        if (Arrays.equals(outStrides, Shapes.contiguousStrides(outShape))) {
            return result;
        }
        return TensorImpl.of(result).view(Layout.strided(outShape, outStrides, 0));
    }

    @Override
    protected boolean savesInput(Boolean causal, int index, Tensor[] inputs) {
        return true;
    }

    @Override
    protected boolean savesOutput(Boolean causal) {
        return true;
    }

    /** Unrecorded: the three gradients from one backend call, one after another in a flat tensor. */
    @Override
    protected Tensor shared(Boolean causal, Values saved, Tensor cotangent, boolean fused) {
        if (!fused) {
            return cotangent;
        }
        Tensor q = saved.input(0);
        Tensor k = saved.input(1);
        Tensor v = saved.input(2);
        Dims n = Dims.of(q, k, v);
        Backend backend = Compute.backend(NAME, q, cotangent);
        long total = n.qSize() + n.kSize() + n.vSize();
        Buffer grads = Compute.allocateUninitialized(backend, total);
        Operand query = Operand.of(q);
        Operand key = Operand.of(k);
        Operand value = Operand.of(v);
        Operand out = Operand.of(saved.output());
        Operand dOut = Operand.of(cotangent);
        backend.attentionGrad(query.buffer(), query.rows(), key.buffer(), key.rows(), value.buffer(), value.rows(),
                out.buffer(), out.rows(), Compute.buffer(saved.residual(LOG_SUM_EXP)), dOut.buffer(), dOut.rows(),
                batchAxes(Compute.shape(q)), n.t(), n.s(), n.d(), n.dv(), causal, scale(n.d()), grads,
                rows(orderedStrides(q, n.d()), 0), rows(orderedStrides(k, n.d()), n.qSize()),
                rows(orderedStrides(v, n.dv()), n.qSize() + n.kSize()));
        return Compute.wrap(backend, grads, new int[] {(int) total});
    }

    /** Each input's gradient is a view of the shared buffer, laid out as {@link #shared} wrote it. */
    @Override
    protected Tensor fusedVjp(Boolean causal, Values saved, int input, Tensor grads) {
        Tensor operand = saved.input(input);
        Dims n = Dims.of(saved.input(0), saved.input(1), saved.input(2));
        long offset = switch (input) {
            case 0 -> 0;
            case 1 -> n.qSize();
            default -> n.qSize() + n.kSize();
        };
        int width = Compute.shape(operand)[operand.rank() - 1];
        return TensorImpl.of(grads).view(Layout.part(widthShape(operand, width), orderedStrides(operand, width),
                offset));
    }

    @Override
    protected Tensor vjp(Boolean causal, Values saved, int input, Tensor cotangent) {
        boolean[] wanted = new boolean[3];
        wanted[input] = true;
        return composedVjps(saved.input(0), saved.input(1), saved.input(2), causal, cotangent, wanted)[input];
    }

    @Override
    protected Tensor jvp(Boolean causal, Values primals, Tensor[] tangents) {
        return composedJvp(primals.input(0), primals.input(1), primals.input(2), causal, tangents);
    }

    /**
     * The gradients of {@code q}, {@code k} and {@code v} composed of differentiable operations
     * (a recorded backward pass): with {@code P} the probabilities, {@code dv = Pᵀ·dO},
     * {@code dS = P ⊙ (dO·vᵀ − rowsum(P ⊙ dO·vᵀ))}, {@code dq = dS·k/√d}, {@code dk = dSᵀ·q/√d}.
     *
     * @param q         queries, {@code [..., T, d]}
     * @param k         keys, {@code [..., S, d]}
     * @param v         values, {@code [..., S, dv]}
     * @param causal    whether query {@code i} sees only keys {@code j ≤ i}
     * @param cotangent the output's cotangent, {@code [..., T, dv]}
     * @param wanted    which of the three to compute
     * @return {@code dq}, {@code dk}, {@code dv}, null where not wanted
     */
    static Tensor[] composedVjps(Tensor q, Tensor k, Tensor v, boolean causal, Tensor cotangent, boolean[] wanted) {
        Tensor p = probabilities(q, k, causal);
        Tensor[] grads = new Tensor[3];
        if (wanted[2]) {
            grads[2] = p.transpose().matmul(cotangent);
        }
        if (wanted[0] || wanted[1]) {
            Tensor dp = cotangent.matmul(v.transpose());
            Tensor ds = p.mul(dp.sub(dp.mul(p).sum(-1, true))).mul(scale(Compute.shape(q)[q.rank() - 1]));
            grads[0] = wanted[0] ? ds.matmul(k) : null;
            grads[1] = wanted[1] ? ds.transpose().matmul(q) : null;
        }
        return grads;
    }

    /**
     * The output's tangent composed of differentiable operations.
     *
     * @param q        queries, {@code [..., T, d]}
     * @param k        keys, {@code [..., S, d]}
     * @param v        values, {@code [..., S, dv]}
     * @param causal   whether query {@code i} sees only keys {@code j ≤ i}
     * @param tangents the tangents of {@code q}, {@code k}, {@code v}, null for zero
     * @return the output's tangent, null when all three are null
     */
    static Tensor composedJvp(Tensor q, Tensor k, Tensor v, boolean causal, Tensor[] tangents) {
        Tensor p = probabilities(q, k, causal);
        float scale = scale(Compute.shape(q)[q.rank() - 1]);
        Tensor ds = null;
        if (tangents[0] != null) {
            ds = tangents[0].matmul(k.transpose());
        }
        if (tangents[1] != null) {
            Tensor term = q.matmul(tangents[1].transpose());
            ds = ds == null ? term : ds.add(term);
        }
        Tensor result = null;
        if (ds != null) {
            ds = ds.mul(scale);
            result = p.mul(ds.sub(p.mul(ds).sum(-1, true))).matmul(v);
        }
        if (tangents[2] != null) {
            Tensor term = p.matmul(tangents[2]);
            result = result == null ? term : result.add(term);
        }
        return result;
    }
}
