package org.adjoint.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API loops for folding windows back into images ({@link FoldedConv} through
 * {@link Im2col}'s fold): C2 left the fold's scalar loop, which adds one array into another,
 * unvectorised, and it took a quarter of the folded input gradient.
 */
final class VectorWindows {

    private static final VectorSpecies<Float> S = VectorMicroKernel.SPECIES;

    private VectorWindows() {
    }

    /**
     * {@code out[to + i] += values[from + i]} for {@code i < length}, a vector at a time: each
     * element one rounded sum, as {@link Im2col}'s scalar loop gives.
     *
     * @param values what to add
     * @param from   the run's first value
     * @param out    what is added to
     * @param to     the run's first element of {@code out}
     * @param length elements
     */
    static void addRun(float[] values, int from, float[] out, int to, int length) {
        int i = 0;
        for (int bound = S.loopBound(length); i < bound; i += S.length()) {
            FloatVector.fromArray(S, out, to + i).add(FloatVector.fromArray(S, values, from + i)).intoArray(out, to + i);
        }
        for (; i < length; i++) {
            out[to + i] += values[from + i];
        }
    }
}
