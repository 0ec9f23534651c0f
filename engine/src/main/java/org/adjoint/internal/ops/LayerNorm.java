package org.adjoint.internal.ops;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Buffer;
import org.adjoint.internal.Compute;
import org.adjoint.internal.Ops;
import org.adjoint.internal.Primitive;
import org.adjoint.internal.Shapes;

/**
 * Layer normalisation over the last {@code axes} axes of its input, seen as
 * {@code [rows, size]}: {@code y = x̂ · weight + bias} with {@code x̂ = (x − mean) · rstd},
 * {@code rstd = 1 / √(var + eps)}, the mean and biased variance of each row. The inputs are
 * {@code x}, then the weight and the bias where given (of the normalised axes' shape).
 *
 * <p>The forward runs the backend's {@code layerNorm} (one pass per row on the CPU) and keeps
 * each row's mean and rstd as residuals. The fused VJP hands them to {@code layerNormGrad}:
 * {@code dx = rstd · (g − mean(g) − x̂ · mean(g · x̂))} with {@code g = dy · weight}, and
 * {@code dweight = Σ_rows dy · x̂}, each one pass; {@code dbias = Σ_rows dy}. The recorded VJP
 * computes the same from the saved input with tensor operations, the statistics included,
 * so that it differentiates again; the JVP is composed from the residuals:
 * {@code dx̂ = rstd · (dx − mean(dx) − x̂ · mean(dx · x̂))}, {@code dy = dx̂ · w + x̂ · dw + db}.
 */
public final class LayerNorm extends Primitive<LayerNorm.Attributes> {

    private static final LayerNorm LAYER_NORM = new LayerNorm();
    private static final int MEAN = 0;
    private static final int RSTD = 1;

    /**
     * What varies between calls.
     *
     * @param axes      how many trailing axes are normalised
     * @param eps       added to the variance
     * @param hasWeight whether input 1 is the weight
     * @param hasBias   whether the last input is the bias
     */
    public record Attributes(int axes, float eps, boolean hasWeight, boolean hasBias) {

        int weightIndex() {
            return hasWeight ? 1 : -1;
        }

        int biasIndex() {
            return hasBias ? (hasWeight ? 2 : 1) : -1;
        }
    }

    private LayerNorm() {
        super("layerNorm");
    }

    /**
     * Layer normalisation, validated: see {@code Functional.layerNorm}.
     *
     * @param input          {@code [..., normalised axes]}
     * @param normalizedAxes how many trailing axes to normalise over, at least 1
     * @param weight         of the normalised axes' shape, or {@code null}
     * @param bias           of the normalised axes' shape, or {@code null}
     * @param eps            added to the variance, finite and {@code >= 0}
     * @return a tensor of the input's shape
     */
    public static Tensor apply(Tensor input, int normalizedAxes, Tensor weight, Tensor bias, float eps) {
        if (input == null) {
            throw new IllegalArgumentException("layerNorm: input is null");
        }
        int[] shape = Compute.shape(input);
        if (normalizedAxes < 1 || normalizedAxes > shape.length) {
            throw new IllegalArgumentException("layerNorm: normalizedAxes must be in [1, " + shape.length
                    + "] for input " + Shapes.str(shape) + ", got " + normalizedAxes);
        }
        int[] normalized = Arrays.copyOfRange(shape, shape.length - normalizedAxes, shape.length);
        checkAffine("weight", weight, normalized, shape);
        checkAffine("bias", bias, normalized, shape);
        if (!(eps >= 0f && eps < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("layerNorm: eps must be finite and >= 0, got " + eps);
        }
        List<Tensor> inputs = new ArrayList<>(List.of(input));
        if (weight != null) {
            inputs.add(weight);
        }
        if (bias != null) {
            inputs.add(bias);
        }
        Tensor[] operands = inputs.toArray(Tensor[]::new);
        Compute.backend("layerNorm", operands);
        return Ops.apply(LAYER_NORM, new Attributes(normalizedAxes, eps, weight != null, bias != null), operands);
    }

    private static void checkAffine(String what, Tensor t, int[] normalized, int[] shape) {
        if (t != null && !Arrays.equals(Compute.shape(t), normalized)) {
            throw new IllegalArgumentException("layerNorm: " + what + " has shape " + Shapes.str(Compute.shape(t))
                    + " but the normalized shape of input " + Shapes.str(shape) + " is " + Shapes.str(normalized));
        }
    }

    /** The product of the last {@code axes} lengths. */
    private static int size(int[] shape, int axes) {
        int size = 1;
        for (int i = shape.length - axes; i < shape.length; i++) {
            size *= shape[i];
        }
        return size;
    }

    private static int rows(int[] shape, int axes) {
        int rows = 1;
        for (int i = 0; i < shape.length - axes; i++) {
            rows *= shape[i];
        }
        return rows;
    }

    @Override
    protected Tensor forward(Attributes a, Tensor[] inputs, Residuals residuals) {
        Tensor x = inputs[0];
        int[] shape = Compute.shape(x);
        int size = size(shape, a.axes());
        int rows = rows(shape, a.axes());
        Backend backend = Compute.backend(name(a), inputs);
        Buffer out = Compute.allocateUninitialized(backend, x.size());
        // Written whole below, by the kernel or the fill.
        Buffer mean = Compute.allocateUninitialized(backend, rows);
        Buffer rstd = Compute.allocateUninitialized(backend, rows);
        if (size > 0) {
            backend.layerNorm(Compute.buffer(x), a.hasWeight() ? Compute.buffer(inputs[a.weightIndex()]) : null,
                    a.hasBias() ? Compute.buffer(inputs[a.biasIndex()]) : null, rows, size, a.eps(), out, mean, rstd);
        } else {
            backend.fill(mean, Float.NaN);
            backend.fill(rstd, Float.NaN);
        }
        residuals.keep(Compute.wrap(backend, mean, new int[] {rows}));
        residuals.keep(Compute.wrap(backend, rstd, new int[] {rows}));
        return Compute.wrap(backend, out, shape);
    }

    @Override
    protected boolean savesInput(Attributes a, int index, Tensor[] inputs) {
        if (index == 0) {
            return inputs[0].requiresGrad() || a.hasWeight() && inputs[a.weightIndex()].requiresGrad();
        }
        return index == a.weightIndex() && inputs[0].requiresGrad();
    }

    /** A row's {@code x̂} ({@code [rows, size]}) and {@code rstd} ({@code [rows, 1]}). */
    private record RowStatistics(Tensor normalized, Tensor rstd) {
    }

    /** The rows' statistics from the saved input, with tensor operations, so that they differentiate. */
    private static RowStatistics statistics(Attributes a, Tensor x, int rowCount, int size) {
        Tensor rows = x.reshape(rowCount, size);
        Tensor centered = rows.sub(rows.sum(1, true).mul(1f / size));
        Tensor rstd = centered.mul(centered).sum(1, true).mul(1f / size).add(a.eps()).pow(-0.5f);
        return new RowStatistics(centered.mul(rstd), rstd);
    }

    @Override
    protected Tensor vjp(Attributes a, Values saved, int input, Tensor cotangent) {
        int[] shape = Compute.shape(cotangent);
        int size = size(shape, a.axes());
        int rowCount = rows(shape, a.axes());
        Tensor dy = cotangent.reshape(rowCount, size);
        if (input == a.biasIndex()) {
            return SumTo.apply(dy, new int[] {size}).reshape(saved.inputShape(input));
        }
        RowStatistics statistics = statistics(a, saved.input(0), rowCount, size);
        Tensor normalized = statistics.normalized();
        if (input == a.weightIndex()) {
            return SumTo.apply(dy.mul(normalized), new int[] {size}).reshape(saved.inputShape(input));
        }
        Tensor g = a.hasWeight() ? dy.mul(saved.input(a.weightIndex()).reshape(size)) : dy;
        Tensor projection = normalized.mul(g).sum(1, true).mul(1f / size);
        return g.sub(g.sum(1, true).mul(1f / size)).sub(normalized.mul(projection)).mul(statistics.rstd())
                .reshape(shape);
    }

    @Override
    protected Tensor fusedVjp(Attributes a, Values saved, int input, Tensor cotangent) {
        int[] shape = Compute.shape(cotangent);
        int size = size(shape, a.axes());
        int rowCount = rows(shape, a.axes());
        if (input == a.biasIndex() || size == 0 || rowCount == 0) {
            return vjp(a, saved, input, cotangent);
        }
        Tensor x = saved.input(0);
        Backend backend = Compute.backend(name(a), x, cotangent);
        Buffer weight = a.hasWeight() && input == 0 ? Compute.buffer(saved.input(a.weightIndex())) : null;
        Buffer mean = Compute.buffer(saved.residual(MEAN));
        Buffer rstd = Compute.buffer(saved.residual(RSTD));
        if (input == 0) {
            Buffer dx = Compute.allocateUninitialized(backend, x.size());
            backend.layerNormGrad(Compute.buffer(x), weight, mean, rstd, Compute.buffer(cotangent), rowCount, size, dx,
                    null);
            return Compute.wrap(backend, dx, shape);
        }
        Buffer dweight = Compute.allocateUninitialized(backend, size);
        backend.layerNormGrad(Compute.buffer(x), null, mean, rstd, Compute.buffer(cotangent), rowCount, size, null,
                dweight);
        return Compute.wrap(backend, dweight, saved.inputShape(input).clone());
    }

    @Override
    protected Tensor jvp(Attributes a, Values primals, Tensor[] tangents) {
        Tensor x = primals.input(0);
        int[] shape = Compute.shape(x);
        int size = size(shape, a.axes());
        int rowCount = rows(shape, a.axes());
        Tensor mean = primals.residual(MEAN).reshape(rowCount, 1);
        Tensor rstd = primals.residual(RSTD).reshape(rowCount, 1);
        Tensor normalized = x.reshape(rowCount, size).sub(mean).mul(rstd);
        Tensor out = null;
        if (tangents[0] != null) {
            Tensor dx = tangents[0].reshape(rowCount, size);
            Tensor dxMean = dx.sum(1, true).mul(1f / size);
            Tensor projection = dx.mul(normalized).sum(1, true).mul(1f / size);
            Tensor dNormalized = dx.sub(dxMean).sub(normalized.mul(projection)).mul(rstd);
            out = a.hasWeight() ? dNormalized.mul(primals.input(a.weightIndex()).reshape(size)) : dNormalized;
        }
        if (a.hasWeight() && tangents[a.weightIndex()] != null) {
            Tensor term = normalized.mul(tangents[a.weightIndex()].reshape(size));
            out = out == null ? term : out.add(term);
        }
        if (a.hasBias() && tangents[a.biasIndex()] != null) {
            Tensor term = BroadcastTo.apply(tangents[a.biasIndex()].reshape(size), new int[] {rowCount, size});
            out = out == null ? term : out.add(term);
        }
        return out == null ? null : out.reshape(shape);
    }
}
