package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Supplier;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The element-wise, row and copy kernels split large inputs over threads
 * ({@link Parallel#ranges}, {@link Parallel#rows}); each result must have the bits of the run on
 * one thread. Inside a fork-join pool every split runs on the calling thread, so each case is
 * run there too and compared.
 */
class ParallelSplitTest {

    @BeforeAll
    static void regionsGetTheirThreads() {
        CompilerLoadTest.assertRegionsGetTheirThreads();
    }


    private static final KernelProvider[] PROVIDERS = {KernelProvider.named("scalar"), KernelProvider.named("vector")};
    /** Large enough to split at every grain, with a ragged end. */
    private static final int N = (1 << 17) + 13;

    @Test
    void rangesCoverEveryElementOnceAtAlignedBoundaries() {
        for (int n : new int[] {0, 1, 63, 64, 65, 1000, N}) {
            for (int minimum : new int[] {1, 7, 64, 1000}) {
                int[] hits = new int[n];
                List<int[]> seen = java.util.Collections.synchronizedList(new ArrayList<>());
                Parallel.ranges(n, minimum, (from, to) -> {
                    seen.add(new int[] {from, to});
                    for (int i = from; i < to; i++) {
                        hits[i]++;
                    }
                });
                for (int i = 0; i < n; i++) {
                    assertEquals(1, hits[i], "n=" + n + ", minimum=" + minimum + ", element " + i);
                }
                for (int[] range : seen) {
                    assertEquals(0, range[0] % Parallel.ALIGN, "a range starts at " + range[0]);
                }
            }
        }
    }

    /**
     * Arrays taken end to end ({@link Parallel#endToEnd}): every element of every array once, in
     * pieces inside its own array, for sets with empty arrays (all of them empty too), ranges
     * that end inside an array and on its edge, and at several grains.
     */
    @Test
    void endToEndCoversEveryElementOfEveryArrayOnce() {
        int[][] sets = {{}, {0}, {0, 0, 0}, {5}, {0, 7, 0, 0, 3}, {64, 64, 64}, {100_000, 0, 1, 70_000, 63, 0},
            {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 200_000}};
        for (int[] lengths : sets) {
            for (int minimum : new int[] {1, 64, 1000, 32_768}) {
                int[][] hits = new int[lengths.length][];
                for (int k = 0; k < lengths.length; k++) {
                    hits[k] = new int[lengths[k]];
                }
                int[] starts = ElementWise.starts(lengths.length, k -> lengths[k]);
                Parallel.endToEnd(starts, minimum, (array, from, to) -> {
                    if (from >= to || from < 0 || to > lengths[array]) {
                        throw new AssertionError("piece [" + from + ", " + to + ") of array " + array + " of "
                                + lengths[array]);
                    }
                    for (int i = from; i < to; i++) {
                        hits[array][i]++;
                    }
                });
                for (int k = 0; k < lengths.length; k++) {
                    for (int i = 0; i < lengths[k]; i++) {
                        assertEquals(1, hits[k][i], Arrays.toString(lengths) + ", minimum " + minimum
                                + ": array " + k + ", element " + i);
                    }
                }
            }
        }
    }

    @Test
    void rowsCoverEveryRowOnce() {
        for (int n : new int[] {0, 1, 2, 3, 12, 768}) {
            int[] hits = new int[n];
            Parallel.rows(n, 1, (first, end) -> {
                for (int r = first; r < end; r++) {
                    hits[r]++;
                }
            });
            for (int r = 0; r < n; r++) {
                assertEquals(1, hits[r], "n=" + n + ", row " + r);
            }
        }
    }

    @Test
    void splitKernelsGiveTheBitsOfOneThread() {
        SplittableRandom random = new SplittableRandom(7);
        float[] x = random(random, N);
        float[] y = random(random, N);
        int rows = 200;
        int cols = 517;
        float[] bias = random(random, cols);
        for (KernelProvider provider : PROVIDERS) {
            for (ElementWise.Unary function : new ElementWise.Unary[] {
                    ElementWise.Unary.GELU, ElementWise.Unary.GELU_GRAD, ElementWise.Unary.EXP, ElementWise.Unary.NEG}) {
                compare(provider.name() + " " + function, () -> {
                    float[] out = new float[N + 3];
                    provider.unary(function, 0f, x, 5, out, 3, N - 5);
                    return out;
                });
            }
            compare(provider.name() + " binary, broadcast rows", () -> {
                float[] out = new float[rows * cols];
                provider.binary(Strided.Binary.MUL, x, new int[] {cols, 1}, bias, new int[] {0, 1}, out,
                        new int[] {rows, cols});
                return out;
            });
            compare(provider.name() + " binary, flat", () -> {
                float[] out = new float[N];
                provider.binary(Strided.Binary.ADD, x, new int[] {1}, y, new int[] {1}, out, new int[] {N});
                return out;
            });
            compare(provider.name() + " sumTo, rows into one", () -> {
                float[] out = new float[cols];
                provider.sumTo(x, new int[] {rows, cols}, out, new int[] {0, 1});
                return out;
            });
            compare(provider.name() + " sumTo, images and pixels into channels", () -> {
                float[] out = new float[32];
                provider.sumTo(x, new int[] {40, 32, 100}, out, new int[] {0, 1, 0});
                return out;
            });
            compare(provider.name() + " sumTo, into a transposed output", () -> {
                // [40, 32, 100] summed over images into [100, 32]: the kept inner axis has stride 32.
                float[] out = new float[32 * 100];
                provider.sumTo(x, new int[] {40, 32, 100}, out, new int[] {0, 1, 32});
                return out;
            });
            compare(provider.name() + " sumTo, each row into one", () -> {
                float[] out = new float[rows];
                provider.sumTo(x, new int[] {rows, cols}, out, new int[] {1, 0});
                return out;
            });
            compare(provider.name() + " adam", () -> {
                float[] state = new float[3 * N];
                System.arraycopy(x, 0, state, 0, N);
                System.arraycopy(y, 0, state, N, N);
                float[] p = Arrays.copyOfRange(state, 0, N);
                float[] m = Arrays.copyOfRange(state, N, 2 * N);
                float[] v = new float[N];
                provider.adam(p, y, m, v, N, 0.9f, 0.999f, 0.03f, 1e-8f, -0.01f, 0.001f, 0.999f);
                System.arraycopy(p, 0, state, 0, N);
                System.arraycopy(m, 0, state, N, N);
                System.arraycopy(v, 0, state, 2 * N, N);
                return state;
            });
            compare(provider.name() + " axpy", () -> {
                float[] out = x.clone();
                provider.axpy(-0.37f, y, out, N);
                return out;
            });
            compare(provider.name() + " layerNormGrad", () -> {
                float[] mean = java.util.Arrays.copyOf(y, rows);
                float[] rstd = new float[rows];
                java.util.Arrays.fill(rstd, 1.3f);
                float[] out = new float[rows * cols + cols];
                float[] dx = new float[rows * cols];
                float[] dweight = new float[cols];
                provider.layerNormGrad(x, bias, mean, rstd, y, rows, cols, dx, dweight);
                System.arraycopy(dx, 0, out, 0, dx.length);
                System.arraycopy(dweight, 0, out, dx.length, cols);
                return out;
            });
            compare(provider.name() + " biasActivation", () -> {
                float[] out = java.util.Arrays.copyOf(x, rows * cols);
                provider.biasActivation(Fused.Activation.TANH, out, bias, rows, cols);
                return out;
            });
            compare(provider.name() + " layerNorm", () -> {
                float[] out = new float[rows * cols + 2 * rows];
                float[] mean = new float[rows];
                float[] rstd = new float[rows];
                provider.layerNorm(x, bias, null, rows, cols, 1e-5f, out, mean, rstd);
                System.arraycopy(mean, 0, out, rows * cols, rows);
                System.arraycopy(rstd, 0, out, rows * cols + rows, rows);
                return out;
            });
        }
        compare("strided copy, permuted", () -> {
            // [12, 64, 4, 32] read as [12, 4, 64, 32]: the heads of an attention.
            float[] out = new float[12 * 64 * 4 * 32];
            Strided.copy(x, 1, new int[] {64 * 4 * 32, 32, 4 * 32, 1}, out, 0, new int[] {12, 4, 64, 32});
            return out;
        });
        compare("strided copy into a strided view", () -> {
            float[] out = new float[2 * 300 * 200];
            Strided.copy(x, 0, new int[] {200, 1}, out, 1, new int[] {400, 2}, new int[] {300, 200});
            return out;
        });
    }

    private static void compare(String what, Supplier<float[]> run) {
        float[] split = run.get();
        float[] serial = ForkJoinPool.commonPool().submit(run::get).join();
        assertArrayEquals(serial, split, what);
    }

    private static float[] random(SplittableRandom random, int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (random.nextDouble() * 6 - 3);
        }
        return values;
    }
}
