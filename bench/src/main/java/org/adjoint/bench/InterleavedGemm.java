package org.adjoint.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import java.util.Locale;

import org.adjoint.bench.jmh.GemmShape;
import org.adjoint.kernels.KernelProvider;

/**
 * Adjoint's SGEMM against OpenBLAS's {@code cblas_sgemm} in one process, in short windows
 * that take turns: on a shared machine whose speed drifts by tens of percent from one
 * minute to the next, two separate runs (JMH, then NumPy) compare two different machines,
 * while two windows a few hundred milliseconds apart see the same one. Each round times one
 * window of each (after a pause, so that the other library's threads have gone to sleep),
 * and the report gives the median of the per-round ratios with its quartiles.
 *
 * <p>OpenBLAS is called through {@code java.lang.foreign} ({@code libopenblas.so.0}, with its
 * own thread count: {@code OPENBLAS_NUM_THREADS}); Adjoint's side is the provider the CPU
 * backend would choose, with {@code adjoint.cpu.threads}.
 *
 * <p>Usage: {@code bench/gemm-vs-openblas.sh [ROUNDS] [SHAPE...]}, shapes in {@link GemmShape}'s
 * notation ({@code 512}, {@code nn:256x784x1024}, {@code tn:...}, {@code nt:...}), as for
 * {@code GemmBench} and the NumPy peer.
 */
public final class InterleavedGemm {

    private static final String LIBRARY = "libopenblas.so.0";
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANSPOSE = 111;
    private static final int TRANSPOSE = 112;
    private static final double WINDOW_SECONDS = 0.15;
    private static final long PAUSE_MILLIS = 150;

    private InterleavedGemm() {
    }

    /**
     * Runs the comparison.
     *
     * @param args rounds, then shapes (by default 512, 1024 and 2048)
     * @throws Throwable when OpenBLAS cannot be loaded or called
     */
    public static void main(String[] args) throws Throwable {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        String[] shapes = args.length > 1 ? Arrays.copyOfRange(args, 1, args.length)
                : new String[] {"512", "1024", "2048"};
        if (rounds < 1) {
            throw new IllegalArgumentException("InterleavedGemm: rounds must be at least 1, got " + rounds);
        }
        MethodHandle openBlas = openBlasSgemm();
        KernelProvider adjoint = KernelProvider.lookup();
        System.out.printf(Locale.ROOT, "Adjoint %s against OpenBLAS (%s), %d rounds of %.2f s windows%n",
                adjoint.name(), LIBRARY, rounds, WINDOW_SECONDS);
        for (String shape : shapes) {
            compare(shape, rounds, adjoint, openBlas);
        }
    }

    private static void compare(String shape, int rounds, KernelProvider adjoint, MethodHandle openBlas)
            throws InterruptedException {
        GemmShape gemm = GemmShape.parse(shape);
        int m = gemm.m();
        int n = gemm.n();
        int k = gemm.k();
        boolean transA = gemm.transA();
        boolean transB = gemm.transB();
        int lda = gemm.lda();
        int ldb = gemm.ldb();
        float[] a = UniformData.floats(Math.multiplyExact(m, k), 1);
        float[] b = UniformData.floats(Math.multiplyExact(k, n), 2);
        float[] c = new float[Math.multiplyExact(m, n)];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment nativeA = arena.allocateFrom(ValueLayout.JAVA_FLOAT, a);
            MemorySegment nativeB = arena.allocateFrom(ValueLayout.JAVA_FLOAT, b);
            MemorySegment nativeC = arena.allocate(ValueLayout.JAVA_FLOAT, c.length);
            Runnable ours = () -> adjoint.sgemm(transA, transB, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, n);
            Runnable theirs = () -> {
                try {
                    openBlas.invokeExact(ROW_MAJOR, transA ? TRANSPOSE : NO_TRANSPOSE, transB ? TRANSPOSE : NO_TRANSPOSE,
                            m, n, k, 1f, nativeA, lda, nativeB, ldb, 0f, nativeC, n);
                } catch (Throwable e) {
                    throw new IllegalStateException("cblas_sgemm failed for " + shape, e);
                }
            };
            double flops = gemm.flops();
            // Warm-up: C2 compiles the kernels, OpenBLAS starts its threads.
            rate(ours, flops, 1.0);
            rate(theirs, flops, 1.0);
            checkSameProduct(shape, k, c, nativeC);
            double[] ratios = new double[rounds];
            double oursSum = 0;
            double theirsSum = 0;
            for (int round = 0; round < rounds; round++) {
                // Alternate which goes first, so that neither always follows the other.
                boolean oursFirst = round % 2 == 0;
                Thread.sleep(PAUSE_MILLIS);
                double first = rate(oursFirst ? ours : theirs, flops, WINDOW_SECONDS);
                Thread.sleep(PAUSE_MILLIS);
                double second = rate(oursFirst ? theirs : ours, flops, WINDOW_SECONDS);
                double oursRate = oursFirst ? first : second;
                double theirsRate = oursFirst ? second : first;
                ratios[round] = oursRate / theirsRate;
                oursSum += oursRate;
                theirsSum += theirsRate;
            }
            Arrays.sort(ratios);
            double median = (ratios[(rounds - 1) / 2] + ratios[rounds / 2]) / 2;
            System.out.printf(Locale.ROOT, "%-16s Adjoint %6.1f  OpenBLAS %6.1f GFLOP/s (means)   Adjoint/OpenBLAS "
                    + "median %.3f, quartiles %.3f..%.3f%n", shape, oursSum / rounds / 1e9, theirsSum / rounds / 1e9,
                    median, ratios[rounds / 4], ratios[(3 * rounds) / 4]);
        }
    }

    /**
     * Fails unless both sides computed the same C (within float rounding, which grows with
     * {@code k}): a comparison of two different products would be meaningless.
     */
    private static void checkSameProduct(String shape, int k, float[] ours, MemorySegment theirs) {
        double tolerance = 1e-5 * Math.sqrt(k) + 1e-6;
        for (int i = 0; i < ours.length; i++) {
            float expected = theirs.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            if (!(Math.abs(ours[i] - expected) <= tolerance * Math.max(1, Math.abs(expected)))) {
                throw new IllegalStateException("InterleavedGemm " + shape + ": Adjoint and OpenBLAS disagree at element "
                        + i + " (" + ours[i] + " against " + expected + "), so they are not computing the same product");
            }
        }
    }

    // Loading a native library and linking a downcall are restricted methods; the scripts that
    // run this class pass --enable-native-access=ALL-UNNAMED.
    @SuppressWarnings("restricted")
    private static MethodHandle openBlasSgemm() {
        SymbolLookup library;
        try {
            library = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("InterleavedGemm: " + LIBRARY + " could not be loaded (on Debian or Ubuntu: "
                    + "apt-get install libopenblas0-pthread)", e);
        }
        MemorySegment symbol = library.find("cblas_sgemm")
                .orElseThrow(() -> new IllegalStateException("InterleavedGemm: " + LIBRARY + " has no cblas_sgemm"));
        ValueLayout i32 = ValueLayout.JAVA_INT;
        return Linker.nativeLinker().downcallHandle(symbol, FunctionDescriptor.ofVoid(i32, i32, i32, i32, i32, i32,
                ValueLayout.JAVA_FLOAT, ValueLayout.ADDRESS, i32, ValueLayout.ADDRESS, i32, ValueLayout.JAVA_FLOAT,
                ValueLayout.ADDRESS, i32));
    }

    /** Floating-point operations per second of repeated calls for at least {@code seconds}. */
    private static double rate(Runnable call, double flops, double seconds) {
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        int calls = 0;
        do {
            call.run();
            calls++;
        } while (System.nanoTime() < end);
        return flops * calls / ((System.nanoTime() - start) / 1e9);
    }
}
