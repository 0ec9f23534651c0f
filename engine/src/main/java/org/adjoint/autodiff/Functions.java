package org.adjoint.autodiff;

import java.util.List;

import org.adjoint.Tensor;

/** Operations defined with {@link CustomFunction}: their own, numerically better rules. */
public final class Functions {

    private Functions() {
    }

    /**
     * {@code log Σ exp(x)} along an axis, computed as {@code m + log Σ exp(x − m)} with
     * {@code m} the maximum, so that large inputs neither overflow nor lose precision. Its
     * VJP is {@code dy · softmax(x)} and its JVP {@code Σ softmax(x) · dx}, each one
     * expression instead of the derivatives of the max, exp, sum and log it is built from.
     *
     * @param x    the input
     * @param axis the axis, negative counting from the end
     * @return the result, with {@code axis} removed
     */
    public static Tensor logSumExp(Tensor x, int axis) {
        return new LogSumExp(axis).apply(x);
    }

    /** The custom rule behind {@link #logSumExp}. */
    private static final class LogSumExp extends CustomFunction {
        private final int axis;

        LogSumExp(int axis) {
            this.axis = axis;
        }

        @Override
        protected Tensor forward(Context ctx, List<Tensor> inputs) {
            Tensor x = inputs.get(0);
            Tensor max = x.max(axis, true);
            Tensor result = x.sub(max).exp().sum(axis, true).log().add(max);
            ctx.save(x);
            int a = axis < 0 ? axis + x.rank() : axis;
            int[] shape = new int[x.rank() - 1];
            for (int i = 0, j = 0; i < x.rank(); i++) {
                if (i != a) {
                    shape[j++] = x.shape()[i];
                }
            }
            return result.reshape(shape);
        }

        /** The saved input's softmax: differentiable again, since the input keeps its history. */
        private Tensor softmax(Context ctx) {
            return ctx.saved(0).softmax(axis);
        }

        @Override
        protected Tensor vjp(Context ctx, int input, Tensor cotangent) {
            int[] kept = ctx.saved(0).shape();
            kept[axis < 0 ? axis + kept.length : axis] = 1;
            return softmax(ctx).mul(cotangent.reshape(kept));
        }

        @Override
        protected Tensor jvp(Context ctx, List<Tensor> tangents) {
            Tensor t = tangents.get(0);
            return t == null ? null : softmax(ctx).mul(t).sum(axis, false);
        }
    }
}
