package org.adjoint.conformance.programs;

import java.util.Arrays;
import java.util.random.RandomGenerator;

import org.adjoint.conformance.programs.ProgramGenerator.Draft;

/**
 * The attention step of {@link ProgramGenerator}: {@code scaledDotProductAttention} of a query
 * value {@code [..., T, d]} with key and value values whose widths and lengths match and whose
 * batch axes broadcast (often the query itself: self-attention), causal or not.
 */
final class AttentionSteps {

    private AttentionSteps() {
    }

    private static int[] batchAxes(int[] shape) {
        return Arrays.copyOf(shape, shape.length - 2);
    }

    private static boolean matrixLike(Draft draft, int v) {
        int[] shape = draft.shapes.get(v);
        return shape.length >= 2 && shape[shape.length - 1] >= 1 && shape[shape.length - 2] >= 1;
    }

    static Step attention(RandomGenerator random, Draft draft) {
        int q = draft.pick(random, v -> matrixLike(draft, v));
        if (q < 0) {
            return null;
        }
        int[] qs = draft.shapes.get(q);
        int width = qs[qs.length - 1];
        int[] qBatch = batchAxes(qs);
        int k = draft.partner(random, q, v -> matrixLike(draft, v) && draft.shapes.get(v)[draft.rank(v) - 1] == width
                && ShapeRules.broadcast(batchAxes(draft.shapes.get(v)), qBatch) != null);
        int[] ks = draft.shapes.get(k);
        int length = ks[ks.length - 2];
        int[] both = ShapeRules.broadcast(qBatch, batchAxes(ks));
        int v = draft.partner(random, k, w -> matrixLike(draft, w) && draft.shapes.get(w)[draft.rank(w) - 2] == length
                && ShapeRules.broadcast(batchAxes(draft.shapes.get(w)), both) != null);
        return Step.of(Kind.ATTENTION, q, k, v).withFlag(random.nextBoolean());
    }
}
