package org.adjoint.optim;

import java.util.ArrayList;
import java.util.List;

import org.adjoint.Tensor;

/**
 * Parameters that share a weight decay, as PyTorch's parameter groups (only the decay differs
 * between groups here). The usual split for transformers, {@link #byRank}, decays the
 * matrices (linear weights, embeddings) and not the vectors (biases, norm scales and shifts).
 *
 * <pre>{@code
 * AdamW adamw = AdamW.grouped(ParameterGroup.byRank(model.parameters(), 0.1f), 1e-3f);
 * }</pre>
 *
 * @param parameters  the tensors, leaves that require a gradient
 * @param weightDecay their decay coefficient, finite and {@code >= 0}
 */
public record ParameterGroup(List<Tensor> parameters, float weightDecay) {

    /**
     * Copies the list.
     *
     * @param parameters  the tensors
     * @param weightDecay their decay
     */
    public ParameterGroup {
        parameters = List.copyOf(parameters);
    }

    /**
     * Splits parameters into two groups: those of rank 2 or more with {@code weightDecay},
     * the rest (biases, norm weights) without decay; in the given order within each.
     *
     * @param parameters  the tensors
     * @param weightDecay the decay of the matrices
     * @return the decayed group, then the undecayed one
     */
    public static List<ParameterGroup> byRank(List<Tensor> parameters, float weightDecay) {
        List<Tensor> decayed = new ArrayList<>();
        List<Tensor> plain = new ArrayList<>();
        for (Tensor p : parameters) {
            (p.rank() >= 2 ? decayed : plain).add(p);
        }
        return List.of(new ParameterGroup(decayed, weightDecay), new ParameterGroup(plain, 0f));
    }
}
