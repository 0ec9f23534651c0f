package org.adjoint.kernels;

/**
 * The compute kernels that a CPU backend calls, in two interchangeable implementations:
 * {@code vector} (Java Vector API, explicit SIMD) and {@code scalar} (plain Java with the
 * same blocking, which C2 may auto-vectorise). Both give results equal up to float rounding
 * order, and both run the same tests.
 *
 * <p>{@link #lookup()} chooses once per JVM: the vector provider when the module
 * {@code jdk.incubator.vector} is readable and the JIT is C2, else the scalar provider with
 * one log line that says why and how to enable the vector one. The system property
 * {@code adjoint.cpu.kernels=vector|scalar} forces a choice.
 *
 * <p>Every kernel adds, compares and rounds in an order fixed by the shapes of its operands
 * and, for the vector provider, by the vector width ({@code -Dadjoint.cpu.vectorBits}, 256
 * unless set): not by the thread count (threads split outputs, never a sum), not by the
 * register tile, and not by whether the code runs interpreted or compiled by C1 or C2. So
 * the same inputs give the same bits on every call. The two providers, and two vector
 * widths, round differently and give different last bits. {@link Math#exp}, {@link Math#log}
 * and {@link Math#tanh} are HotSpot intrinsics that the interpreter calls too, so they agree
 * between modes; they could differ on another JDK build or CPU architecture.
 * DeterminismTest and cpu-backend's ReproducibilityTest check this.
 *
 * <p>The methods come in families, one interface each: {@link GemmKernels} (the one product a
 * provider must write), {@link ConvolutionKernels} and {@link ScaledDotProductKernels} (built on
 * the GEMM, with composed defaults), {@link ElementWiseKernels}, {@link AxisKernels},
 * {@link PoolingKernels} and {@link NormalizationKernels}. A new provider starts from the GEMM
 * and the element-wise and axis passes, and inherits the rest.
 */
public interface KernelProvider extends GemmKernels, ConvolutionKernels, ElementWiseKernels, AxisKernels,
        PoolingKernels, NormalizationKernels, ScaledDotProductKernels {

    /** System property that forces a provider. */
    String PROPERTY = "adjoint.cpu.kernels";

    /**
     * Short name: {@code vector} or {@code scalar}.
     *
     * @return the name
     */
    @Override
    String name();

    /**
     * One line that says how this provider runs here: for {@code vector}, the vector width,
     * the register tile and the SGEMM block sizes chosen from the CPU's caches (see
     * {@code -Dadjoint.cpu.vectorBits}, {@code adjoint.cpu.tileRows} and
     * {@code adjoint.cpu.gemm.kc|mc|nc}); for both, the thread count.
     *
     * @return e.g. {@code vector: 256-bit, tile 4x16, KC 512, MC 128, NC 2048 (L1d 32 KiB, ...), 2 threads}
     */
    default String description() {
        return name() + ": " + Parallel.THREADS + " threads";
    }

    /**
     * A linear layer's product and bias, {@code C = op(A)·op(B) + bias} (the bias added to each
     * row), with the bits of {@link #sgemm} ({@code alpha} 1, {@code beta} 0) followed by
     * {@link #biasActivation} with {@link Fused.Activation#IDENTITY}: each element is the
     * product's sum, rounded, plus its column's bias, rounded. The default is those two calls; a
     * provider whose product sums each element in registers and adds C once at the end may
     * start C as the bias rows and add to it instead, saving the pass over C.
     *
     * @param transA whether A is stored transposed ({@code k × m})
     * @param transB whether B is stored transposed ({@code n × k})
     * @param m      rows of C
     * @param n      columns of C
     * @param k      the shared dimension
     * @param a      A's elements
     * @param aOffset where A starts
     * @param lda    elements between A's stored rows
     * @param b      B's elements
     * @param bOffset where B starts
     * @param ldb    elements between B's stored rows
     * @param bias   {@code n} values
     * @param c      C, {@code m × n} from 0, row-major and contiguous
     */
    default void sgemmBias(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOffset, int lda,
                           float[] b, int bOffset, int ldb, float[] bias, float[] c) {
        sgemm(transA, transB, m, n, k, 1f, a, aOffset, lda, b, bOffset, ldb, 0f, c, 0, n);
        biasActivation(Fused.Activation.IDENTITY, c, bias, m, n);
    }

    /**
     * {@link #description()} of the provider this JVM chose, for benchmark reports
     * ({@code bench/compare.sh} prints it).
     *
     * @return the description
     */
    static String configuration() {
        return lookup().description();
    }

    /**
     * The provider for this JVM, chosen on first use (see the class description).
     *
     * @return the shared provider
     */
    static KernelProvider lookup() {
        return KernelSelection.CHOSEN;
    }

    /**
     * A provider by name, for tests and benchmarks that compare both.
     *
     * @param name {@code vector} or {@code scalar}
     * @return the provider
     * @throws IllegalArgumentException for another name
     * @throws UnsupportedOperationException when {@code vector} cannot load here, with the reason
     */
    static KernelProvider named(String name) {
        return KernelSelection.named(name);
    }
}
