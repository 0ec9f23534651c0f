package org.adjoint.nn;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import org.adjoint.Tensor;
import org.adjoint.internal.Shapes;

/**
 * Layer normalisation over the trailing axes of a given shape, as PyTorch's
 * {@code nn.LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True)}: see
 * {@link Functional#layerNorm}. With the elementwise affine (the default) the parameters are
 * {@code weight} (starting at 1) and {@code bias} (at 0), of the normalised shape, under
 * PyTorch's names and in its order; without it there are none.
 */
public final class LayerNorm implements Module {

    private final int[] normalizedShape;
    private final float eps;
    private final Tensor weight;
    private final Tensor bias;

    /**
     * A layer with PyTorch's defaults: {@code eps = 1e-5}, elementwise affine.
     *
     * @param normalizedShape the lengths of the trailing axes to normalise over, each at least 1
     */
    public LayerNorm(int... normalizedShape) {
        this(normalizedShape, 1e-5f, true);
    }

    /**
     * A layer with chosen constants.
     *
     * @param normalizedShape   the lengths of the trailing axes to normalise over, each at least 1
     * @param eps               added to the variance, finite and {@code >= 0}
     * @param elementwiseAffine whether to learn a per-element {@code weight} and {@code bias}
     */
    public LayerNorm(int[] normalizedShape, float eps, boolean elementwiseAffine) {
        if (normalizedShape == null || normalizedShape.length == 0) {
            throw new IllegalArgumentException("LayerNorm: the normalized shape must have at least one axis, got "
                    + (normalizedShape == null ? "null" : "[]"));
        }
        for (int length : normalizedShape) {
            if (length < 1) {
                throw new IllegalArgumentException("LayerNorm: the normalized shape must have positive lengths, got "
                        + Shapes.str(normalizedShape));
            }
        }
        if (!(eps >= 0f && eps < Float.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("LayerNorm: eps must be finite and >= 0, got " + eps);
        }
        this.normalizedShape = normalizedShape.clone();
        this.eps = eps;
        this.weight = elementwiseAffine ? Tensor.ones(normalizedShape).requiresGrad(true) : null;
        this.bias = elementwiseAffine ? Tensor.zeros(normalizedShape).requiresGrad(true) : null;
    }

    @Override
    public Tensor apply(Tensor x) {
        int[] shape = x.shape();
        int axes = normalizedShape.length;
        if (shape.length < axes
                || !Arrays.equals(Arrays.copyOfRange(shape, shape.length - axes, shape.length), normalizedShape)) {
            throw new IllegalArgumentException("LayerNorm" + Shapes.str(normalizedShape) + ": expected input [..., "
                    + Shapes.str(normalizedShape).substring(1) + ", got " + Shapes.str(shape));
        }
        return Functional.layerNorm(x, axes, weight, bias, eps);
    }

    @Override
    public Map<String, Tensor> namedParameters() {
        if (weight == null) {
            return Map.of();
        }
        Map<String, Tensor> named = new LinkedHashMap<>();
        named.put("weight", weight);
        named.put("bias", bias);
        return Collections.unmodifiableMap(named);
    }

    /**
     * The lengths of the normalised axes.
     *
     * @return a copy of the normalised shape
     */
    public int[] normalizedShape() {
        return normalizedShape.clone();
    }

    /**
     * The scale, of the normalised shape.
     *
     * @return the weight parameter, or {@code null} without the elementwise affine
     */
    public Tensor weight() {
        return weight;
    }

    /**
     * The shift, of the normalised shape.
     *
     * @return the bias parameter, or {@code null} without the elementwise affine
     */
    public Tensor bias() {
        return bias;
    }

    @Override
    public String toString() {
        String shape = Arrays.toString(normalizedShape).replace('[', '(').replace(']', ')');
        return "LayerNorm(" + shape + ", eps=" + eps + ", elementwise_affine=" + (weight != null) + ")";
    }
}
