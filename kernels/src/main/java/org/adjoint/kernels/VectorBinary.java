package org.adjoint.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API row kernel of the binary element-wise functions ({@link StridedBinary.Row}):
 * whole vectors where both strides are 1 or one of them is 0 (a scalar broadcast), and the
 * scalar {@link StridedBinary#scalarRow} for the tail and for every other stride.
 *
 * <p>C2 keeps a {@link FloatVector} in a register only while every method it passes through
 * is inlined; a vector handed to a method that is not gets boxed, one heap object per
 * iteration. A helper holding the function's switch (80 bytes of bytecode) is inlined or not
 * depending on the profile, and where it was not, every broadcast row allocated about 32
 * bytes per element. So each loop here loads, computes and stores within its own body, calling
 * only the Vector API's always-inlined methods.
 */
final class VectorBinary {

    private static final VectorSpecies<Float> S = VectorMicroKernel.SPECIES;
    private static final int L = S.length();

    private VectorBinary() {
    }

    static void row(Strided.Binary function, float[] lhs, int l, int ls, float[] rhs, int r, int rs,
                    float[] out, int o, int n) {
        int i = 0;
        if (ls == 1 && rs == 1) {
            i = sameShape(function, lhs, l, rhs, r, out, o, n);
        } else if (ls == 1 && rs == 0) {
            i = scalarRight(function, lhs, l, rhs[r], out, o, n);
        } else if (ls == 0 && rs == 1) {
            i = scalarLeft(function, lhs[l], rhs, r, out, o, n);
        }
        StridedBinary.scalarRow(function, lhs, l + i * ls, ls, rhs, r + i * rs, rs, out, o + i, n - i);
    }

    /** The vector part of {@code out = f(lhs, rhs)}; returns the elements it did. */
    private static int sameShape(Strided.Binary function, float[] lhs, int l, float[] rhs, int r,
                                 float[] out, int o, int n) {
        int bound = S.loopBound(n);
        for (int i = 0; i < bound; i += L) {
            FloatVector a = FloatVector.fromArray(S, lhs, l + i);
            FloatVector b = FloatVector.fromArray(S, rhs, r + i);
            switch (function) {
                case ADD -> a.add(b).intoArray(out, o + i);
                case SUB -> a.sub(b).intoArray(out, o + i);
                case MUL -> a.mul(b).intoArray(out, o + i);
                case DIV -> a.div(b).intoArray(out, o + i);
            }
        }
        return bound;
    }

    /** The vector part of {@code out = f(lhs, value)}; returns the elements it did. */
    private static int scalarRight(Strided.Binary function, float[] lhs, int l, float value,
                                   float[] out, int o, int n) {
        int bound = S.loopBound(n);
        for (int i = 0; i < bound; i += L) {
            // Broadcast in the loop, where C2 hoists it, rather than a vector made before the
            // loop, which stays boxed when the loop does not run.
            FloatVector a = FloatVector.fromArray(S, lhs, l + i);
            FloatVector b = FloatVector.broadcast(S, value);
            switch (function) {
                case ADD -> a.add(b).intoArray(out, o + i);
                case SUB -> a.sub(b).intoArray(out, o + i);
                case MUL -> a.mul(b).intoArray(out, o + i);
                case DIV -> a.div(b).intoArray(out, o + i);
            }
        }
        return bound;
    }

    /** The vector part of {@code out = f(value, rhs)}; returns the elements it did. */
    private static int scalarLeft(Strided.Binary function, float value, float[] rhs, int r,
                                  float[] out, int o, int n) {
        int bound = S.loopBound(n);
        for (int i = 0; i < bound; i += L) {
            FloatVector a = FloatVector.broadcast(S, value);
            FloatVector b = FloatVector.fromArray(S, rhs, r + i);
            switch (function) {
                case ADD -> a.add(b).intoArray(out, o + i);
                case SUB -> a.sub(b).intoArray(out, o + i);
                case MUL -> a.mul(b).intoArray(out, o + i);
                case DIV -> a.div(b).intoArray(out, o + i);
            }
        }
        return bound;
    }
}
