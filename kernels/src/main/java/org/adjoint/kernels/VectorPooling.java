package org.adjoint.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API versions of {@link Pooling}'s max pooling and its scatter for a
 * {@linkplain Pooling.Window#halving() halving} window (2×2, stride 2, no padding), the
 * pooling of most CNNs; other windows run the scalar kernels. Each output row runs
 * vectors of {@code L} outputs, the last one masked, so short rows (7 or 14 outputs) stay in
 * vectors too. An argmax entry that is not a tap number sends its row to the scalar
 * loop, which names it.
 *
 * <p>The forward splits the even and odd columns of two input rows into the four taps
 * {@code a b / c d} of {@code L} windows and combines them as {@code (a b)(c d)}, the order of
 * {@link Pooling#maxHalvingRow}: selections only, so both providers give the same bits, argmax
 * included. The scatter interleaves each window's four values back, the cotangent (added to +0)
 * on the argmax tap and +0 elsewhere, as {@link Pooling#maxScatterHalvingRow} does.
 */
final class VectorPooling {

    private static final VectorSpecies<Float> S = VectorMicroKernel.SPECIES;
    private static final int L = S.length();
    /** The even lanes of two vectors: {@code 0, 2, 4, …}. */
    private static final FloatVector EVEN = everyOther(0);
    /** The odd lanes of two vectors: {@code 1, 3, 5, …}. */
    private static final FloatVector ODD = everyOther(1);
    /** Interleaves the first halves of two vectors: {@code 0, L, 1, L+1, …}. */
    private static final FloatVector LOW = interleave(0);
    /** Interleaves the second halves: {@code L/2, L + L/2, …}. */
    private static final FloatVector HIGH = interleave(L / 2);
    /**
     * Per thread, not per call: the pooled copy-out of {@link DirectConv} asked for one array
     * per image, 64 small allocations a CNN step.
     */
    private static final ThreadLocal<float[]> SPILL = ThreadLocal.withInitial(() -> new float[L]);

    private VectorPooling() {
    }

    /**
     * Whether halving windows run in vectors here: at least two lanes.
     *
     * @return {@code L ≥ 2}
     */
    static boolean vectors() {
        return L >= 2;
    }

    /**
     * The calling thread's scratch for {@link #maxRow}'s last windows, kept between calls
     * (a thread uses it for one row at a time).
     *
     * @return {@code L} floats
     */
    static float[] spill() {
        return SPILL.get();
    }

    private static FloatVector everyOther(int start) {
        float[] indices = new float[L];
        for (int i = 0; i < L; i++) {
            indices[i] = start + 2 * i;
        }
        return FloatVector.fromArray(S, indices, 0);
    }

    private static FloatVector interleave(int from) {
        float[] indices = new float[L];
        for (int i = 0; i < L; i++) {
            indices[i] = i % 2 == 0 ? from + i / 2 : L + from + i / 2;
        }
        return FloatVector.fromArray(S, indices, 0);
    }

    /**
     * {@link Pooling#maxPool}, with vectors for a halving window.
     *
     * @param in     {@code [planes, height, width]}
     * @param window the sizes
     * @param values output
     * @param argmax output, or {@code null}
     */
    static void maxPool(float[] in, Pooling.Window window, float[] values, float[] argmax) {
        if (!window.halving() || L < 2) {
            Pooling.maxPool(in, window, values, argmax);
            return;
        }
        Pooling.checkMax(in, window, values, argmax);
        window.run((first, end) -> maxRows(in, window, values, argmax, first * window.outHeight(),
                end * window.outHeight()));
    }

    /**
     * Output rows {@code [firstRow, endRow)} (counted over all planes), {@code L} windows at a
     * time; the last vector of a row is masked. The vector body is a method of its own: inlined
     * here, the method was too large for C1 ("out of virtual registers"), so it ran in the
     * interpreter until C2 compiled it, several seconds at a CNN's first poolings.
     */
    private static void maxRows(float[] in, Pooling.Window window, float[] values, float[] argmax, int firstRow,
                                int endRow) {
        int width = window.width();
        int outWidth = window.outWidth();
        float[] spill = spill();
        int outHeight = window.outHeight();
        int planeSize = window.height() * width;
        int plane = firstRow / outHeight;
        int oh = firstRow - plane * outHeight;
        int partEnd = endRow * outWidth;
        for (int row = firstRow; row < endRow; row++) {
            // Stepped row by row: Pooling.halvingRowStart's two divisions cost as much as a short row.
            int top = plane * planeSize + 2 * oh * width;
            if (++oh == outHeight) {
                oh = 0;
                plane++;
            }
            maxRow(in, top, width, outWidth, values, argmax, row * outWidth, partEnd, spill);
        }
    }

    /**
     * One output row of halving windows: {@code outWidth} windows whose top-left taps start at
     * {@code in[top]}, every second column, the row below {@code rowStride} further on; outputs
     * from {@code values[outRow]} (and {@code argmax[outRow]}). Whole vectors while their lanes
     * stay below output {@code limit} (what they write past the row, a later row of the same
     * part overwrites), else masked.
     *
     * @param in        the input rows
     * @param top       the first window's top-left tap
     * @param rowStride elements from one input row to the next
     * @param outWidth  windows in the row
     * @param values    output
     * @param argmax    output, or {@code null}
     * @param outRow    the row's first output
     * @param limit     the end of the outputs this part may write
     * @param spill     {@code L} floats of scratch
     */
    static void maxRow(float[] in, int top, int rowStride, int outWidth, float[] values, float[] argmax, int outRow,
                       int limit, float[] spill) {
        for (int ow = 0; ow < outWidth; ow += L) {
            int at = top + 2 * ow;
            if (outRow + ow + L <= limit && at + rowStride + 2 * L <= in.length) {
                maxVectorWhole(in, at, rowStride, values, argmax, outRow + ow);
            } else {
                maxVector(in, at, rowStride, Math.min(L, outWidth - ow), values, argmax, outRow + ow, spill);
            }
        }
    }

    /**
     * {@link #maxVector} of {@code L} windows with whole vectors, where the lanes past the row
     * (when it has fewer windows left) read the next input rows and write the next outputs of
     * this part, which a later row overwrites: masked loads and stores of a row's last windows
     * (7 of the 7 or 14 of a CNN's rows) cost more than the pooling itself.
     */
    private static void maxVectorWhole(float[] in, int p, int width, float[] values, float[] argmax, int o) {
        FloatVector up0 = FloatVector.fromArray(S, in, p);
        FloatVector up1 = FloatVector.fromArray(S, in, p + L);
        FloatVector down0 = FloatVector.fromArray(S, in, p + width);
        FloatVector down1 = FloatVector.fromArray(S, in, p + width + L);
        reduce(up0, up1, down0, down1, values, argmax, o, L, null);
    }

    /**
     * {@code count ≤ L} windows whose top-left taps start at input {@code p}. Fewer than
     * {@code L} are stored through {@code spill}: a masked store checks its lanes one by one in
     * Java (no intrinsic), which cost more than the pooling.
     */
    private static void maxVector(float[] in, int p, int width, int count, float[] values, float[] argmax, int o,
                                  float[] spill) {
        VectorMask<Float> left = S.indexInRange(0, 2 * count);
        VectorMask<Float> right = S.indexInRange(L, 2 * count);
        FloatVector up0 = FloatVector.fromArray(S, in, p, left);
        FloatVector up1 = FloatVector.fromArray(S, in, p + L, right);
        FloatVector down0 = FloatVector.fromArray(S, in, p + width, left);
        FloatVector down1 = FloatVector.fromArray(S, in, p + width + L, right);
        reduce(up0, up1, down0, down1, values, argmax, o, count, spill);
    }

    /**
     * The maxima of {@code count ≤ L} windows from their two input rows, each row's {@code 2L}
     * taps in two vectors, stored at {@code values[o]} with their taps (0 to 3, row-major) at
     * {@code argmax[o]} when that is not null; fewer than {@code L} go through {@code spill}.
     */
    private static void reduce(FloatVector up0, FloatVector up1, FloatVector down0, FloatVector down1,
                               float[] values, float[] argmax, int o, int count, float[] spill) {
        FloatVector a = EVEN.selectFrom(up0, up1);
        FloatVector b = ODD.selectFrom(up0, up1);
        FloatVector c = EVEN.selectFrom(down0, down1);
        FloatVector d = ODD.selectFrom(down0, down1);
        VectorMask<Float> takeB = takes(a, b);
        VectorMask<Float> takeD = takes(c, d);
        FloatVector ab = a.blend(b, takeB);
        FloatVector cd = c.blend(d, takeD);
        VectorMask<Float> takeCd = takes(ab, cd);
        store(ab.blend(cd, takeCd), values, o, count, spill);
        if (argmax != null) {
            FloatVector tap = FloatVector.zero(S).blend(1f, takeB).blend(FloatVector.broadcast(S, 2f).blend(3f, takeD),
                    takeCd);
            store(tap, argmax, o, count, spill);
        }
    }

    /** Stores the first {@code count} lanes of {@code v} at {@code out[at]}: a whole vector, or through {@code spill}. */
    private static void store(FloatVector v, float[] out, int at, int count, float[] spill) {
        if (count == L) {
            v.intoArray(out, at);
        } else if (count > 0) {
            v.intoArray(spill, 0);
            System.arraycopy(spill, 0, out, at, count);
        }
    }

    /** Where the later tap {@code next} takes over from {@code best}: larger or NaN, unless {@code best} is NaN. */
    private static VectorMask<Float> takes(FloatVector best, FloatVector next) {
        // "best is a number and next is not at most best" is the same function in two compares
        // and a mask op instead of three and two: next ≤ best is false when next is NaN.
        return best.compare(VectorOperators.EQ, best).andNot(next.compare(VectorOperators.LE, best));
    }

    /**
     * {@link Pooling#maxPoolScatter}, with vectors for a halving window.
     *
     * @param grad   {@code [planes, outHeight, outWidth]}
     * @param argmax {@code [planes, outHeight, outWidth]}
     * @param window the sizes
     * @param out    output, {@code [planes, height, width]}
     */
    static void maxPoolScatter(float[] grad, float[] argmax, Pooling.Window window, float[] out) {
        if (!window.halving() || L < 2) {
            Pooling.maxPoolScatter(grad, argmax, window, out);
            return;
        }
        Pooling.checkScatter("maxPoolScatter", grad, argmax, window, out);
        window.run((first, end) -> {
            scatterRows(grad, argmax, null, window, out, first * window.outHeight(), end * window.outHeight());
            Pooling.zeroHalvingEdges(window, out, first, end);
        });
    }

    /**
     * One plane of {@link PooledReluGrad#maxPoolReluGrad}'s {@code g}: the scatter of {@code (0 + grad) ·
     * step(values)}, with vectors for a halving window.
     *
     * @param grad   {@code [planes, outHeight, outWidth]}
     * @param argmax {@code [planes, outHeight, outWidth]}
     * @param values the pooled values, of the same shape
     * @param window the sizes; windows that do not overlap
     * @param out    output, {@code [planes, height, width]}; the plane's elements overwritten
     * @param plane  the plane
     */
    static void scatterReluPlane(float[] grad, float[] argmax, float[] values, Pooling.Window window, float[] out,
                                 int plane) {
        if (!window.halving() || L < 2) {
            Pooling.maxScatterPlanes(grad, argmax, values, window, out, plane, plane + 1);
            return;
        }
        scatterRows(grad, argmax, values, window, out, plane * window.outHeight(), (plane + 1) * window.outHeight());
        Pooling.zeroHalvingEdges(window, out, plane, plane + 1);
    }

    /**
     * Output rows {@code [firstRow, endRow)} of the scatter, {@code L} windows at a time, as
     * {@link #maxRows}; with {@code values}, each cotangent times {@code step(values)}.
     */
    private static void scatterRows(float[] grad, float[] argmax, float[] values, Pooling.Window window, float[] out,
                                    int firstRow, int endRow) {
        int width = window.width();
        int outWidth = window.outWidth();
        float[] spill = spill();
        int outHeight = window.outHeight();
        int planeSize = window.height() * width;
        int plane = firstRow / outHeight;
        int oh = firstRow - plane * outHeight;
        int partEnd = endRow / outHeight * planeSize;
        // Whole vectors where what a row's last vector writes past the row stays within the two
        // input rows of the next output row (or the edges zeroed after), which overwrite it:
        // 2L floats past a row's start reach at most three rows further.
        boolean whole = 3 * width >= 2 * L;
        for (int row = firstRow; row < endRow; row++) {
            int top = plane * planeSize + 2 * oh * width;
            if (++oh == outHeight) {
                oh = 0;
                plane++;
            }
            int outRow = row * outWidth;
            // Last windows first: whole vectors write past the row into the next input row's
            // first columns, which the windows before them (and the next output row) then
            // overwrite with their own values.
            for (int ow = (outWidth - 1) / L * L; ow >= 0; ow -= L) {
                int at = top + 2 * ow;
                boolean done = whole && outRow + ow + L <= grad.length && at + width + 2 * L <= partEnd
                        ? scatterVectorWhole(grad, argmax, values, outRow + ow, out, at, width)
                        : scatterVector(grad, argmax, values, outRow + ow, Math.min(L, outWidth - ow), out, at, width,
                        spill);
                if (!done) {
                    // Not tap numbers: the scalar row names the first bad entry.
                    Pooling.maxScatterHalvingRow(grad, argmax, values, outRow, top, width, out, ow, outWidth);
                }
            }
        }
    }

    /**
     * {@link #scatterVector} of {@code L} windows with whole vectors, as {@link #maxVectorWhole};
     * only where an input row holds at least {@code 2L/3} elements, so that what one row's last
     * vector writes past its end lies within the next output row's input rows (written after
     * it, rows ascending) or the edges zeroed after.
     */
    private static boolean scatterVectorWhole(float[] grad, float[] argmax, float[] values, int o, float[] out, int p,
                                              int width) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector g = zero.add(FloatVector.fromArray(S, grad, o));
        if (values != null) {
            g = g.mul(step(FloatVector.fromArray(S, values, o)));
        }
        FloatVector t = FloatVector.fromArray(S, argmax, o);
        VectorMask<Float> is0 = t.eq(0f);
        VectorMask<Float> is1 = t.eq(1f);
        VectorMask<Float> is2 = t.eq(2f);
        VectorMask<Float> is3 = t.eq(3f);
        if (!is0.or(is1).or(is2).or(is3).allTrue()) {
            // A bad entry, or the next row's entries past this row's end: the careful path.
            return false;
        }
        FloatVector a = zero.blend(g, is0);
        FloatVector b = zero.blend(g, is1);
        FloatVector c = zero.blend(g, is2);
        FloatVector d = zero.blend(g, is3);
        LOW.selectFrom(a, b).intoArray(out, p);
        HIGH.selectFrom(a, b).intoArray(out, p + L);
        LOW.selectFrom(c, d).intoArray(out, p + width);
        HIGH.selectFrom(c, d).intoArray(out, p + width + L);
        return true;
    }

    /**
     * The scatter of {@code count ≤ L} windows, stored as {@link #maxVector} does; false, writing
     * nothing, on an argmax entry that is no tap number.
     */
    private static boolean scatterVector(float[] grad, float[] argmax, float[] values, int o, int count, float[] out,
                                         int p, int width, float[] spill) {
        FloatVector zero = FloatVector.zero(S);
        VectorMask<Float> load = S.indexInRange(0, count);
        FloatVector g = zero.add(FloatVector.fromArray(S, grad, o, load));
        if (values != null) {
            g = g.mul(step(FloatVector.fromArray(S, values, o, load)));
        }
        FloatVector t = FloatVector.fromArray(S, argmax, o, load);
        VectorMask<Float> is0 = t.eq(0f);
        VectorMask<Float> is1 = t.eq(1f);
        VectorMask<Float> is2 = t.eq(2f);
        VectorMask<Float> is3 = t.eq(3f);
        if (!is0.or(is1).or(is2).or(is3).or(load.not()).allTrue()) {
            return false;
        }
        FloatVector a = zero.blend(g, is0);
        FloatVector b = zero.blend(g, is1);
        FloatVector c = zero.blend(g, is2);
        FloatVector d = zero.blend(g, is3);
        int span = 2 * count;
        store(LOW.selectFrom(a, b), out, p, Math.min(L, span), spill);
        store(HIGH.selectFrom(a, b), out, p + L, span - L, spill);
        store(LOW.selectFrom(c, d), out, p + width, Math.min(L, span), spill);
        store(HIGH.selectFrom(c, d), out, p + width + L, span - L, spill);
        return true;
    }

    /** ReLU's derivative from its output as a factor: 1 where {@code y > 0}, else 0 (NaN too), as STEP multiplies it in. */
    private static FloatVector step(FloatVector y) {
        return FloatVector.zero(S).blend(1f, y.compare(VectorOperators.GT, 0f));
    }
}
