package org.adjoint.nn;

import java.util.Map;

import org.adjoint.Tensor;

/** TEMPORARY stand-in until h17-norm lands (not to be committed). */
public final class LayerNorm implements Module {
    private final Tensor weight;
    private final Tensor bias;

    /** @param width the last axis */
    public LayerNorm(int width) {
        weight = Tensor.ones(width).requiresGrad(true);
        bias = Tensor.zeros(width).requiresGrad(true);
    }

    @Override
    public Tensor apply(Tensor x) {
        Tensor mean = x.mean(-1, true);
        Tensor centered = x.sub(mean);
        Tensor var = centered.mul(centered).mean(-1, true);
        return centered.div(var.add(1e-5f).sqrt()).mul(weight).add(bias);
    }

    @Override
    public Map<String, Tensor> namedParameters() {
        var m = new java.util.LinkedHashMap<String, Tensor>();
        m.put("weight", weight);
        m.put("bias", bias);
        return m;
    }
}
