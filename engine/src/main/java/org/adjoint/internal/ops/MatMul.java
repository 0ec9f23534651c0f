package org.adjoint.internal.ops;

import java.util.Arrays;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * Batched {@code op(A)·op(B)} where {@code op} optionally transposes the last two axes, so
 * both VJPs are again one product each and no transpose is materialised:
 * <ul>
 *   <li>{@code C = A·B}: {@code dA = dC·Bᵀ}, {@code dB = Aᵀ·dC}</li>
 *   <li>{@code C = Aᵀ·B}: {@code dA = B·dCᵀ}, {@code dB = A·dC}</li>
 *   <li>{@code C = A·Bᵀ}: {@code dA = dC·B}, {@code dB = dCᵀ·A}</li>
 *   <li>{@code C = Aᵀ·Bᵀ}: {@code dA = Bᵀ·dCᵀ}, {@code dB = dCᵀ·Aᵀ}</li>
 * </ul>
 * Saves A only when B needs a gradient and B only when A does. The attributes are the
 * transpose flags, one constant for each of the four combinations. An operand that is a
 * transposed view ({@code x.transpose()}) is read in place: its flag is flipped instead of
 * copying it, and so is any view of packed matrices with a uniform batch stride
 * ({@link Compute#matrices}).
 */
public final class MatMul extends Primitive<MatMul.Transposes> {

    private static final MatMul MATMUL = new MatMul();

    /**
     * Which operands are transposed.
     *
     * @param a whether A is
     * @param b whether B is
     */
    public record Transposes(boolean a, boolean b) {
        private static final Transposes[] ALL = {
            new Transposes(false, false), new Transposes(false, true),
            new Transposes(true, false), new Transposes(true, true)};

        static Transposes of(boolean a, boolean b) {
            return ALL[(a ? 2 : 0) + (b ? 1 : 0)];
        }
    }

    private MatMul() {
        super("matmul");
    }

    /**
     * NumPy {@code matmul}: 1-D operands are promoted to matrices and the added axis removed
     * from the result; batch axes broadcast.
     *
     * @param lhs left operand
     * @param rhs right operand
     * @return the product
     */
    public static Tensor numpy(Tensor lhs, Tensor rhs) {
        int[] ls = Compute.shape(lhs);
        int[] rs = Compute.shape(rhs);
        if (ls.length == 0 || rs.length == 0) {
            throw new IllegalArgumentException("matmul: cannot multiply " + Shapes.str(ls) + " by " + Shapes.str(rs)
                    + " (operands must have rank at least 1)");
        }
        int inL = ls[ls.length - 1];
        int inR = rs.length == 1 ? rs[0] : rs[rs.length - 2];
        if (inL != inR) {
            throw new IllegalArgumentException("matmul: cannot multiply " + Shapes.str(ls) + " by " + Shapes.str(rs)
                    + " (inner dimensions " + inL + " and " + inR + " differ)");
        }
        Tensor a = ls.length == 1 ? lhs.reshape(1, ls[0]) : lhs;
        Tensor b = rs.length == 1 ? rhs.reshape(rs[0], 1) : rhs;
        int[] as = Compute.shape(a);
        int[] bs = Compute.shape(b);
        Tensor product;
        if (bs.length == 2 && as.length > 2) {
            // A stack of matrices times one matrix is one tall product: fold the batch into rows.
            int m = as[as.length - 2];
            // All of A's axes but the last, multiplied (not size / inL: the inner length may be 0).
            int rows = Math.toIntExact(Shapes.size(Arrays.copyOf(as, as.length - 1)));
            Tensor flat = apply(a.reshape(rows, inL), b, false, false);
            int[] outShape = as.clone();
            outShape[outShape.length - 1] = bs[1];
            outShape[outShape.length - 2] = m;
            product = flat.reshape(outShape);
        } else {
            int[] aBatch = Arrays.copyOf(as, as.length - 2);
            int[] bBatch = Arrays.copyOf(bs, bs.length - 2);
            int[] batch;
            try {
                batch = Shapes.broadcast("matmul", aBatch, bBatch);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("matmul: cannot multiply " + Shapes.str(ls) + " by " + Shapes.str(rs)
                        + " (their batch axes " + Shapes.str(aBatch) + " and " + Shapes.str(bBatch)
                        + " do not broadcast)", e);
            }
            product = apply(BroadcastTo.apply(a, concat(batch, as[as.length - 2], as[as.length - 1])),
                    BroadcastTo.apply(b, concat(batch, bs[bs.length - 2], bs[bs.length - 1])), false, false);
        }
        int[] ps = Compute.shape(product);
        if (ls.length == 1 && rs.length == 1) {
            return product.reshape();
        }
        if (ls.length == 1) {
            return product.reshape(Shapes.dropAxis(ps, ps.length - 2));
        }
        if (rs.length == 1) {
            return product.reshape(Shapes.dropAxis(ps, ps.length - 1));
        }
        return product;
    }

    private static int[] concat(int[] batch, int rows, int cols) {
        int[] out = Arrays.copyOf(batch, batch.length + 2);
        out[batch.length] = rows;
        out[batch.length + 1] = cols;
        return out;
    }

    /**
     * {@code op(a)·op(b)} for operands of equal rank (at least 2) and equal batch axes.
     *
     * @param a      left operand, {@code [..., m, k]} or {@code [..., k, m]} when {@code transA}
     * @param b      right operand, {@code [..., k, n]} or {@code [..., n, k]} when {@code transB}
     * @param transA whether to transpose {@code a}
     * @param transB whether to transpose {@code b}
     * @return {@code [..., m, n]}
     */
    public static Tensor apply(Tensor a, Tensor b, boolean transA, boolean transB) {
        check(a, b, transA, transB);
        return Ops.apply(MATMUL, Transposes.of(transA, transB), a, b);
    }

    /** Refuses operands that {@link #apply} cannot multiply. */
    private static void check(Tensor a, Tensor b, boolean transA, boolean transB) {
        int[] as = Compute.shape(a);
        int[] bs = Compute.shape(b);
        int rank = as.length;
        if (rank < 2 || bs.length != rank
                || !Arrays.equals(as, 0, rank - 2, bs, 0, rank - 2)) {
            throw new IllegalArgumentException("matmul: batch axes of " + Shapes.str(as) + " and " + Shapes.str(bs)
                    + " differ");
        }
        int k = transA ? as[rank - 2] : as[rank - 1];
        int kb = transB ? bs[rank - 1] : bs[rank - 2];
        if (k != kb) {
            throw new IllegalArgumentException("matmul: cannot multiply " + Shapes.str(as) + (transA ? "ᵀ" : "")
                    + " by " + Shapes.str(bs) + (transB ? "ᵀ" : "") + " (inner dimensions " + k + " and " + kb + " differ)");
        }
    }

    /**
     * {@code op(a1)·op(b1)} and {@code op(a2)·op(b2)}, operands as for {@link #apply}, from one
     * backend call that may run the two side by side ({@link Backend#gemmPair}): for the VJPs
     * of a product whose operands both need a gradient, when the backward pass is not recorded
     * (nothing is recorded here, and no tangent is carried). Products on different backends
     * run one after the other. The bits are those of {@link Operands#apply} on each.
     *
     * @param one   the first product
     * @param other the second
     * @return the two products
     */
    static Tensor[] pair(Operands one, Operands other) {
        check(one.a(), one.b(), one.transA(), one.transB());
        check(other.a(), other.b(), other.transA(), other.transB());
        Call first = call(Transposes.of(one.transA(), one.transB()), one.a(), one.b());
        Call second = call(Transposes.of(other.transA(), other.transB()), other.a(), other.b());
        if (first.backend == second.backend) {
            first.backend.gemmPair(first.product, second.product);
        } else {
            first.product.on(first.backend);
            second.product.on(second.backend);
        }
        return new Tensor[] {first.result(), second.result()};
    }

    /**
     * The operands of one product {@code op(a)·op(b)}, as {@link #apply} takes them.
     *
     * @param a      left operand
     * @param b      right operand
     * @param transA whether to transpose {@code a}
     * @param transB whether to transpose {@code b}
     */
    record Operands(Tensor a, Tensor b, boolean transA, boolean transB) {
        Tensor apply() {
            return MatMul.apply(a, b, transA, transB);
        }
    }

    /** One product's backend, its gemm call into a new output, and the output's shape. */
    private record Call(Backend backend, Backend.Product product, int[] shape) {
        Tensor result() {
            return Compute.wrap(backend, product.c(), shape);
        }
    }

    /** The gemm call of {@code op(a)·op(b)}, into a new uninitialised output. */
    private static Call call(Transposes t, Tensor a, Tensor b) {
        int[] as = Compute.shape(a);
        int[] bs = Compute.shape(b);
        int rank = as.length;
        int m = t.a() ? as[rank - 1] : as[rank - 2];
        int k = t.a() ? as[rank - 2] : as[rank - 1];
        int n = t.b() ? bs[rank - 2] : bs[rank - 1];
        Backend backend = Compute.backend("matmul", a, b);
        int batch = (int) Shapes.size(Arrays.copyOf(as, rank - 2));
        int[] outShape = as.clone();
        outShape[rank - 2] = m;
        outShape[rank - 1] = n;
        Buffer out = Compute.allocateUninitialized(backend, Shapes.size(outShape));
        // A view of packed matrices (a transpose, a narrow, ...) is read in place: a transposed one by flipping its flag.
        Compute.Matrices ma = Compute.matrices(a);
        Compute.Matrices mb = Compute.matrices(b);
        return new Call(backend, new Backend.Product(t.a() != ma.transposed(), t.b() != mb.transposed(), batch, m, n,
                k, 1f, ma.buffer(), ma.offset(), ma.batchStride(), mb.buffer(), mb.offset(), mb.batchStride(),
                0f, out, 0, (long) m * n), outShape);
    }

    @Override
    protected Tensor forward(Transposes t, Tensor[] inputs, Residuals residuals) {
        Call call = call(t, inputs[0], inputs[1]);
        call.product.on(call.backend);
        return call.result();
    }

    @Override
    protected boolean savesInput(Transposes t, int index, Tensor[] inputs) {
        return Mul.readByOther(index, inputs);
    }

    @Override
    protected Tensor vjp(Transposes t, Values saved, int input, Tensor cotangent) {
        return gradient(t, saved, input, cotangent).apply();
    }

    /** The product that is input {@code input}'s cotangent (see the class description). */
    private static Operands gradient(Transposes t, Values saved, int input, Tensor cotangent) {
        if (input == 0) {
            Tensor b = saved.input(1);
            return t.a() ? new Operands(b, cotangent, t.b(), true) : new Operands(cotangent, b, false, !t.b());
        }
        Tensor a = saved.input(0);
        return t.b() ? new Operands(cotangent, a, true, t.a()) : new Operands(a, cotangent, !t.a(), false);
    }

    /** Both operands' cotangents from one {@link #pair} call, when both need one. */
    @Override
    protected Tensor[] fusedVjps(Transposes t, Values saved, Tensor cotangent) {
        if (!saved.receivesCotangent(0) || !saved.receivesCotangent(1)) {
            return null;
        }
        return pair(gradient(t, saved, 0, cotangent), gradient(t, saved, 1, cotangent));
    }

    @Override
    protected Tensor jvp(Transposes t, Values primals, Tensor[] tangents) {
        Tensor ta = tangents[0];
        Tensor tb = tangents[1];
        return Add.sum(ta == null ? null : apply(ta, primals.input(1), t.a(), t.b()),
                tb == null ? null : apply(primals.input(0), tb, t.a(), t.b()));
    }
}
