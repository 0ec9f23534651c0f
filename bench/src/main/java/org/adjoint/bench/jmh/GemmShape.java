package org.adjoint.bench.jmh;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One SGEMM problem {@code C[m×n] = op(A)·op(B)} with an inner dimension {@code k}, as the
 * benchmarks name it: {@code "n"} for the square {@code n×n×n} product without transposes, or
 * {@code "OP:MxKxN"} where {@code OP} is {@code nn} ({@code A·B}), {@code tn} ({@code Aᵀ·B},
 * A stored {@code k×m}) or {@code nt} ({@code A·Bᵀ}, B stored {@code n×k}). The MLP's forward
 * pass is {@code nn}, its weight gradient {@code tn} and its input gradient {@code nt}.
 *
 * @param transA whether A is stored {@code k×m}
 * @param transB whether B is stored {@code n×k}
 * @param m      rows of C
 * @param k      inner dimension
 * @param n      columns of C
 */
public record GemmShape(boolean transA, boolean transB, int m, int k, int n) {

    private static final Pattern SQUARE = Pattern.compile("\\d+");
    private static final Pattern GENERAL = Pattern.compile("(nn|tn|nt|tt):(\\d+)x(\\d+)x(\\d+)");

    /**
     * Checks that every dimension is positive.
     *
     * @param transA whether A is stored {@code k×m}
     * @param transB whether B is stored {@code n×k}
     * @param m      rows of C
     * @param k      inner dimension
     * @param n      columns of C
     * @throws IllegalArgumentException when a dimension is not positive
     */
    public GemmShape {
        if (m <= 0 || k <= 0 || n <= 0) {
            throw new IllegalArgumentException("GEMM shape: dimensions must be positive, got m=" + m + ", k=" + k
                    + ", n=" + n);
        }
    }

    /**
     * Reads a shape in the notation of the class description.
     *
     * @param text {@code "512"} or, for example, {@code "tn:784x256x1024"}
     * @return the shape
     * @throws IllegalArgumentException when {@code text} is in neither form
     */
    public static GemmShape parse(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (SQUARE.matcher(s).matches()) {
            int size = Integer.parseInt(s);
            return new GemmShape(false, false, size, size, size);
        }
        Matcher matcher = GENERAL.matcher(s);
        if (!matcher.matches()) {
            throw new IllegalArgumentException("GEMM shape '" + text
                    + "': expected N (square) or OP:MxKxN with OP one of nn, tn, nt, tt (e.g. tn:784x256x1024)");
        }
        String op = matcher.group(1);
        return new GemmShape(op.charAt(0) == 't', op.charAt(1) == 't', Integer.parseInt(matcher.group(2)),
                Integer.parseInt(matcher.group(3)), Integer.parseInt(matcher.group(4)));
    }

    /**
     * Row stride of A as stored, for contiguous storage.
     *
     * @return {@code m} when A is stored transposed, else {@code k}
     */
    public int lda() {
        return transA ? m : k;
    }

    /**
     * Row stride of B as stored, for contiguous storage.
     *
     * @return {@code k} when B is stored transposed, else {@code n}
     */
    public int ldb() {
        return transB ? k : n;
    }

    /**
     * Floating-point operations of one product, counting a multiply-add as two.
     *
     * @return {@code 2·m·n·k}
     */
    public double flops() {
        return 2.0 * m * n * k;
    }

    /**
     * The shape in the notation that {@link #parse(String)} reads, always in the long form.
     *
     * @return for example {@code "nt:256x1024x784"}
     */
    @Override
    public String toString() {
        return (transA ? "t" : "n") + (transB ? "t" : "n") + ":" + m + "x" + k + "x" + n;
    }
}
