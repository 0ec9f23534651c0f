package org.adjoint.kernels;

import java.util.function.IntConsumer;
import java.util.function.IntFunction;

/**
 * Two independent products of {@link PackedGemm}, each as {@link PackedGemm#sgemm} computes it
 * alone (so with its bits), in one parallel region: the threads of even parts begin with the
 * first product and those of odd parts with the second, each claiming units of its product as
 * the threads of a product of its own would, and then help with what is left of the other. A
 * product is then mostly one thread's: it packs B once instead of once a thread where the panels
 * are private, and no thread waits for the other at the end of a product. Neither C may overlap
 * any operand of the other product. Throw-away harness on the Intel Xeon of 2026-12-06 (AVX-512,
 * 2 cores; the GPT's four pairs of weight and input gradients, operands cycling through 12
 * sets): 195–198 GFLOP/s against 186 one product after the other.
 */
final class GemmPair {

    /** Each product's shared panels of B, apart from every thread's private panels ({@code PackedGemm}'s {@code B_PACK}). */
    private static final ThreadLocal<float[]> FIRST_PANELS = new ThreadLocal<>();
    private static final ThreadLocal<float[]> SECOND_PANELS = new ThreadLocal<>();

    private GemmPair() {
    }

    /**
     * Computes both products.
     *
     * @param kernel the register tile
     * @param first  one product
     * @param second the other
     */
    static void sgemm(MicroKernel kernel, GemmKernels.Product first, GemmKernels.Product second) {
        if (first.empty() || second.empty()) {
            alone(kernel, first);
            alone(kernel, second);
            return;
        }
        scale(first);
        scale(second);
        Parallel.together(Parallel.THREADS, parts(kernel, first, second));
    }

    /**
     * The parallel region of {@link #sgemm}, each C already scaled by its beta. Like
     * {@link PackedGemm#parts}, its parts may run side by side or one after another on one thread.
     */
    static IntFunction<IntConsumer> parts(MicroKernel kernel, GemmKernels.Product first, GemmKernels.Product second) {
        IntFunction<IntConsumer> one = productParts(kernel, first, FIRST_PANELS);
        IntFunction<IntConsumer> two = productParts(kernel, second, SECOND_PANELS);
        return threads -> {
            IntConsumer firstPart = one.apply(threads);
            IntConsumer secondPart = two.apply(threads);
            return part -> {
                if (part % 2 == 0) {
                    firstPart.accept(part);
                    secondPart.accept(part);
                } else {
                    secondPart.accept(part);
                    firstPart.accept(part);
                }
            };
        };
    }

    private static IntFunction<IntConsumer> productParts(MicroKernel kernel, GemmKernels.Product p,
                                                         ThreadLocal<float[]> shared) {
        return PackedGemm.parts(kernel, p.transA(), p.m(), p.n(), p.k(), p.alpha(), p.a(), p.aOffset(), p.lda(),
                PackedGemm.dense(kernel, p.transB(), p.b(), p.bOffset(), p.ldb()), p.beta() != 0f, p.c(), p.cOffset(),
                p.ldc(), shared);
    }

    private static void alone(MicroKernel kernel, GemmKernels.Product p) {
        PackedGemm.sgemm(kernel, p.transA(), p.transB(), p.m(), p.n(), p.k(), p.alpha(), p.a(), p.aOffset(), p.lda(),
                p.b(), p.bOffset(), p.ldb(), p.beta(), p.c(), p.cOffset(), p.ldc());
    }

    /** C scaled by beta before the region, as {@link PackedGemm#sgemm} does (beta 0 needs no pass: the first block of k overwrites C). */
    private static void scale(GemmKernels.Product p) {
        if (p.beta() != 0f) {
            PackedGemm.scale(p.beta(), p.c(), p.cOffset(), p.ldc(), p.m(), p.n());
        }
    }
}
