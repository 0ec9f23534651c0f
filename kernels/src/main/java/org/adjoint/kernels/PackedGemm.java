package org.adjoint.kernels;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import java.util.function.IntFunction;

/**
 * Blocked SGEMM in the style of GotoBLAS/BLIS, shared by both providers:
 * <pre>
 * for jc in n by NC:                                  one phase per (jc, pc)
 *   for pc in k by KC:
 *     pack B[pc:pc+KC, jc:jc+NC] into NR-wide slivers          (threads claim runs of slivers)
 *     for ic in m by MC (and runs of slivers when rows are few): (threads claim blocks)
 *       pack A[ic:ic+MC, pc:pc+KC] into MR-tall slivers        (per thread, stays in L2)
 *       (pc = 0, beta = 0, 12-row tile) zero C's block by rows  (see prewrite)
 *       for jr, ir: micro-kernel on one MR × NR tile of C      (B sliver in L1)
 * </pre>
 * KC, MC and NC come from the CPU's cache sizes and the tile ({@link GemmBlocking}). Threads
 * share the work through a {@link PanelSchedule}: no barrier, a thread waits only for units
 * that another one is running, and the next panel of B is packed while this one is used. Where
 * each thread has many rows of C ({@link GemmPlan#PRIVATE_PANEL_ROWS}), or the cut is one block
 * of rows in runs of slivers, each thread packs what it needs itself and waits for nobody's
 * packing. The tiles of one block of C are {@link GemmBlock}'s.
 * Transposes are absorbed by the packing, so every case runs the same micro-kernel. Where the
 * panel of B is narrow ({@link #IN_PLACE_COLUMNS}) a non-transposed A is not packed: the
 * kernel's {@link MicroKernel#tileRows} reads its rows in place, with the same multiply-adds in
 * the same order; a transposed A with short storage rows ({@link #IN_PLACE_TRANSPOSED_STRIDE})
 * is read in place by {@link MicroKernel#tileColumns} likewise, where the panel is no wider
 * than the kernel's {@link MicroKernel#transposedInPlaceColumns}; a thread packs a block of A
 * once for all its units of that block. Tiles at the edges go through
 * a small buffer, except a last block of rows that the kernel's short tile divides
 * ({@link MicroKernel#shortRows}: 4 rows for the 12-row tile), which runs as short tiles, and
 * a last sliver of at most {@link MicroKernel#narrowColumns} columns, which runs as narrow
 * tiles (through the buffer): the same chain for every element.
 *
 * <p>Each element of C is the same chain of operations whatever the tile, the vector width and
 * the thread count: per block of KC, fused multiply-adds in order of k from zero, then
 * {@code alpha·acc} (the first block, {@code beta = 0}) or {@code fma(alpha, acc, C)}; threads
 * split C, never k. So the 4-row tile of AVX2 machines, the 12-row one of AVX-512 machines and
 * the 3-row one give the same bits, whatever MC and NC, which only cut C into blocks. With
 * {@code beta = 0} the first block of k writes C without reading it, so C is touched once per
 * block of k and never zeroed first. Products under about four million multiply-adds run on
 * the calling thread, where splitting costs more than it saves.
 */
final class PackedGemm {

    /** Products of fewer multiply-adds than this run on the calling thread. */
    static final long SERIAL_BELOW = 1L << 22;

    /**
     * A non-transposed A is read in place, not packed, when the panel of B is at most this many
     * columns wide. Packing reads A once and writes it MR values apart, a cost paid once per
     * block of A and shared by the panel's slivers: at the GPT's narrow products (65 to 128
     * columns, three or four slivers of 32) it cost a sixth of the time. Read in place, each
     * tile's A comes from MR rows instead of one packed run, a little slower per tile. On one
     * Zen 4 core (12 × 32 tile, thread CPU time, in place and packed alternating in one
     * process): 1.12–1.19× at 65–128 columns, 1.07× at 256, 0.93–1.09× at 384, 1.02× at 512,
     * 0.85× at 1024 × 1024 × 1024.
     */
    static final int IN_PLACE_COLUMNS = 256;

    /**
     * A transposed A ({@code k × m} in storage) is read in place, not packed, when its rows
     * are at most this many values long and the panel of B at most
     * {@link MicroKernel#transposedInPlaceColumns} wide: each step of k of a tile is then
     * {@code rows()} consecutive values, one storage row further on. Packing it cost a tenth of
     * the GPT's weight gradients ({@code xᵀ·dY}, A 128 or 65 values a row). Rows far apart
     * make each step a new page: on one Zen 4 core (12 × 32 tile, thread CPU time, medians of
     * seven, loaded machine), in place against packed: 1.06–1.2× at 128 × 768 · 768 × 128 to
     * 512, but 0.85–0.9× with rows of 512 or 1024 values (512 × 768 · 768 × 512,
     * 1024 × 256 · 256 × 1024, 1024 × 1024 × 1024).
     */
    static final int IN_PLACE_TRANSPOSED_STRIDE = 256;

    /** The largest block of C that {@link #prewrite} writes ahead of its tiles: half the L2 cache. */
    static final long PREWRITE_BYTES = GemmBlocking.CACHES[1] / 2;

    /** The smallest stride between C's rows ({@code ldc}, in values) at which {@link #prewrite} zeroes a block ahead: 1 KiB. */
    static final int PREWRITE_STRIDE = 256;

    private static final ThreadLocal<float[]> A_PACK = new ThreadLocal<>();
    private static final ThreadLocal<float[]> B_PACK = new ThreadLocal<>();
    private static final ThreadLocal<float[]> A_SHARED = new ThreadLocal<>();

    private PackedGemm() {
    }

    static void sgemm(MicroKernel kernel, boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
                      float beta, float[] c, int cOffset, int ldc) {
        sgemm(kernel, transA, m, n, k, alpha, a, aOffset, lda, dense(kernel, transB, b, bOffset, ldb), beta, c,
                cOffset, ldc);
    }

    /**
     * Where the packing reads B from: a panel's slivers are filled by {@link #pack}, so B need
     * not exist as a matrix (a convolution's columns are read straight from the images).
     */
    @FunctionalInterface
    interface BSource {

        /**
         * Packs rows {@code [pc, pc+kc)} of {@code op(B)} into slivers {@code [first, end)} of the
         * panel of columns {@code [jc, jc+nc)}: sliver {@code s} holds columns {@code jc + s·NR}
         * onwards, NR wide (the kernel's columns), zero-padded past {@code nc}, at
         * {@code base + s·NR·kc}, {@code NR} values per step of k.
         *
         * @param pc    first row of op(B)
         * @param kc    rows
         * @param jc    first column of the panel
         * @param nc    columns of the panel
         * @param first first sliver to pack
         * @param end   one past the last sliver
         * @param pack  the panel buffer
         * @param base  where the panel starts in it
         */
        void pack(int pc, int kc, int jc, int nc, int first, int end, float[] pack, int base);
    }

    /** B as a dense row-major matrix, stored transposed when {@code transB}. */
    static BSource dense(MicroKernel kernel, boolean transB, float[] b, int bOffset, int ldb) {
        return (pc, kc, jc, nc, first, end, pack, base) ->
                GemmPacking.packB(kernel, transB, b, bOffset, ldb, pc, kc, jc, nc, first, end, pack, base);
    }

    /**
     * {@link #sgemm} with B packed from {@code b}: {@code C = alpha·op(A)·B + beta·C}, B being
     * {@code k × n}; the bits are those {@link #sgemm} gives for the same matrix B.
     */
    static void sgemm(MicroKernel kernel, boolean transA, int m, int n, int k, float alpha,
                      float[] a, int aOffset, int lda, BSource b, float beta, float[] c, int cOffset, int ldc) {
        if (m == 0 || n == 0 || k == 0 || alpha == 0f) {
            scale(beta, c, cOffset, ldc, m, n);
            return;
        }
        // beta 0 needs no pass over C: the first block of k overwrites it (so NaNs in C do not
        // survive); any other beta scales C first and every block accumulates.
        if (beta != 0f) {
            scale(beta, c, cOffset, ldc, m, n);
        }
        int wanted = (long) m * n * k < SERIAL_BELOW ? 1 : Parallel.THREADS;
        Parallel.together(wanted, parts(kernel, transA, m, n, k, alpha, a, aOffset, lda, b, beta != 0f, c, cOffset, ldc));
    }

    /**
     * The parallel region of one product, C already scaled by beta ({@code accumulate}: C is
     * added to, not overwritten): given the threads that will share it, the work of one part.
     * The parts claim the product's units, so they may run side by side or one after another
     * on one thread (a caller that runs a part its worker had not begun), with the same bits.
     */
    static IntFunction<IntConsumer> parts(MicroKernel kernel, boolean transA, int m, int n, int k, float alpha,
                                          float[] a, int aOffset, int lda, BSource b, boolean accumulate, float[] c,
                                          int cOffset, int ldc) {
        return parts(kernel, transA, m, n, k, alpha, a, aOffset, lda, b, accumulate, c, cOffset, ldc, B_PACK);
    }

    /**
     * {@link #parts} with the threads' shared panels of B in the calling thread's {@code shared}
     * (each thread's private panels stay in its own {@code B_PACK}): a caller running two
     * products in one region ({@link GemmPair}) gives each its own.
     */
    static IntFunction<IntConsumer> parts(MicroKernel kernel, boolean transA, int m, int n, int k,
                                                  float alpha, float[] a, int aOffset, int lda, BSource b,
                                                  boolean accumulate, float[] c, int cOffset, int ldc,
                                                  ThreadLocal<float[]> shared) {
        return parts(kernel, transA, m, n, k, alpha, a, aOffset, lda, b, accumulate, c, cOffset, ldc, shared, null);
    }

    /**
     * {@link #parts} that, given a {@code bias}, starts each block of C as the bias rows instead
     * of overwriting it with the first block of k (see {@link #sgemmBias}).
     */
    private static IntFunction<IntConsumer> parts(MicroKernel kernel, boolean transA, int m, int n, int k,
                                                  float alpha, float[] a, int aOffset, int lda, BSource b,
                                                  boolean accumulate, float[] c, int cOffset, int ldc,
                                                  ThreadLocal<float[]> shared, float[] bias) {
        return threads -> {
            GemmPlan.Plan plan = new GemmPlan.Plan(kernel, transA, lda, m, n, k, threads);
            // Private panels are each thread's own B_PACK, taken in blocked().
            float[] panels = plan.privatePanels ? null : buffer(shared, plan.panels * plan.panelSize);
            PanelSchedule schedule = new PanelSchedule(plan.phases, plan.packRuns, plan.rowBlocks * plan.groups, threads);
            return part -> {
                try {
                    blocked(kernel, plan, schedule, part, transA, alpha, a, aOffset, lda, b, accumulate, c, cOffset,
                            ldc, panels, null, bias);
                } catch (PanelSchedule.Abandoned e) {
                    // Another part failed and throws its own failure, which the region rethrows.
                    return;
                } catch (RuntimeException | Error e) {
                    // The units this part claimed will never be done: the parts waiting for them stop.
                    schedule.abandon();
                    throw e;
                }
            };
        };
    }

    /**
     * {@code C = op(A)·op(B) + bias} for a product whose k is one block ({@code k ≤ KC}; C
     * {@code m × n} from 0): each block of C is first written as the bias rows, in the place of
     * {@link #prewrite}'s zeros, and the tiles add their sums to it, {@code fma(sum, 1, bias)},
     * the sum plus the bias rounded once: the bits of the product followed by a pass adding
     * the bias, without that pass.
     */
    static void sgemmBias(MicroKernel kernel, boolean transA, boolean transB, int m, int n, int k, float[] a,
                          int aOffset, int lda, float[] b, int bOffset, int ldb, float[] bias, float[] c) {
        int wanted = (long) m * n * k < SERIAL_BELOW ? 1 : Parallel.THREADS;
        Parallel.together(wanted, parts(kernel, transA, m, n, k, 1f, a, aOffset, lda,
                dense(kernel, transB, b, bOffset, ldb), false, c, 0, n, B_PACK, bias));
    }

    /**
     * {@link #sgemm} on the calling thread only, with B packed from {@code b} (a caller that
     * runs products side by side on its own threads).
     */
    static void sgemmSerial(MicroKernel kernel, boolean transA, int m, int n, int k, float alpha,
                            float[] a, int aOffset, int lda, BSource b, float beta, float[] c, int cOffset, int ldc) {
        if (m == 0 || n == 0 || k == 0 || alpha == 0f) {
            scale(beta, c, cOffset, ldc, m, n);
            return;
        }
        if (beta != 0f) {
            scale(beta, c, cOffset, ldc, m, n);
        }
        GemmPlan.Plan plan = new GemmPlan.Plan(kernel, transA, lda, m, n, k, 1);
        float[] panels = buffer(B_PACK, plan.panels * plan.panelSize);
        PanelSchedule schedule = new PanelSchedule(plan.phases, plan.packRuns, plan.rowBlocks * plan.groups, 1);
        blocked(kernel, plan, schedule, 0, transA, alpha, a, aOffset, lda, b, beta != 0f, c, cOffset, ldc, panels,
                null, null);
    }

    /**
     * A batch of products small enough to run serially ({@link #SERIAL_BELOW}) that share one
     * A: entry {@code p} is {@code C_p = alpha·op(A)·op(B_p) + beta·C_p} with {@code B_p} and
     * {@code C_p} {@code p · stride} elements after their offsets. The entries run side by side,
     * whole entries claimed one at a time by each thread, and each thread packs A once for all
     * its entries instead of once per entry (a convolution's weight, shared by every image); a
     * thread that starts late only takes fewer entries. Each entry is computed exactly
     * as {@link #sgemm} computes it alone, so the bits are those of the entry-by-entry loop.
     * The Cs must not overlap.
     */
    static void sgemmSharedA(MicroKernel kernel, boolean transA, boolean transB, int batch, int m, int n, int k,
                             float alpha, float[] a, int aOffset, int lda, float[] b, int bOffset, int bStride, int ldb,
                             float beta, float[] c, int cOffset, int cStride, int ldc) {
        sgemmSharedA(kernel, transA, batch, m, n, k, alpha, a, aOffset, lda,
                p -> dense(kernel, transB, b, bOffset + p * bStride, ldb), beta, c, cOffset, cStride, ldc);
    }

    /**
     * {@link #sgemmSharedA(MicroKernel, boolean, boolean, int, int, int, int, float, float[], int, int, float[], int,
     * int, int, float, float[], int, int, int)} with entry {@code p}'s B packed from {@code bs.apply(p)}.
     */
    static void sgemmSharedA(MicroKernel kernel, boolean transA, int batch, int m, int n, int k,
                             float alpha, float[] a, int aOffset, int lda, IntFunction<BSource> bs,
                             float beta, float[] c, int cOffset, int cStride, int ldc) {
        AtomicInteger next = new AtomicInteger();
        Parallel.together(Math.min(batch, Parallel.THREADS), threads -> part -> {
            int first = next.getAndIncrement();
            if (first >= batch) {
                return;
            }
            GemmPlan.Plan plan = new GemmPlan.Plan(kernel, transA, lda, m, n, k, 1);
            int kBlocks = (k + plan.kc - 1) / plan.kc;
            int blockSize = plan.mcBlock * Math.min(plan.kc, k);
            float[] shared = buffer(A_SHARED, kBlocks * plan.rowBlocks * blockSize);
            for (int pc = 0, block = 0; pc < k; pc += plan.kc) {
                int kc = Math.min(plan.kc, k - pc);
                for (int ic = 0; ic < m; ic += plan.mcBlock, block++) {
                    float[] pack = buffer(A_PACK, plan.mcBlock * Math.min(plan.kc, k));
                    int mc = Math.min(plan.mcBlock, m - ic);
                    GemmPacking.packA(kernel, transA, a, aOffset, lda, ic, mc, pc, kc, pack);
                    System.arraycopy(pack, 0, shared, block * blockSize, blockSize);
                }
            }
            float[] panels = buffer(B_PACK, plan.panels * plan.panelSize);
            for (int p = first; p < batch; p = next.getAndIncrement()) {
                int cAt = cOffset + p * cStride;
                if (beta != 0f) {
                    scale(beta, c, cAt, ldc, m, n);
                }
                PanelSchedule schedule = new PanelSchedule(plan.phases, plan.packRuns, plan.rowBlocks * plan.groups, 1);
                blocked(kernel, plan, schedule, 0, transA, alpha, a, aOffset, lda, bs.apply(p), beta != 0f, c, cAt, ldc,
                        panels, shared, null);
            }
        });
    }

    /**
     * {@code C = alpha·A·B + beta·C} on the calling thread for one block of k ({@code k} at most
     * KC) with B already packed by the caller: {@code bPack} holds the slivers of the
     * {@code k × n} matrix B as a {@link BSource} packs them for {@code pc = 0, kc = k,
     * jc = 0, nc = n}, sliver {@code s} at {@code bBase + s·NR·k}. A is row-major, read in place
     * or packed as {@link #sgemm} does for a panel this wide, so each element of C is the chain
     * {@link #sgemm} gives for one block: fused multiply-adds in order of k from zero, then
     * {@code alpha·acc} ({@code beta = 0}) or {@code fma(alpha, acc, C)} ({@code beta = 1}). A
     * caller with a longer k calls it per block of KC steps, {@code beta = 1} after the first,
     * which is the chain of {@link #sgemm} over the whole k; one packed B then serves products
     * with several A (a convolution's weight gradient, one product per tap).
     *
     * @throws IllegalArgumentException when {@code k} exceeds the kernel's KC, or when {@code beta}
     *                                  is neither 0 nor 1
     */
    static void sgemmPackedB(MicroKernel kernel, int m, int n, int k, float alpha, float[] a, int aOffset, int lda,
                             float[] bPack, int bBase, float beta, float[] c, int cOffset, int ldc) {
        int kcMax = GemmBlocking.forTile(kernel.rows(), kernel.columns()).kc();
        if (k > kcMax || (beta != 0f && beta != 1f)) {
            throw new IllegalArgumentException("sgemmPackedB: k " + k + " above KC " + kcMax
                    + " or beta " + beta + " neither 0 nor 1");
        }
        if (m == 0 || n == 0 || k == 0 || alpha == 0f) {
            scale(beta, c, cOffset, ldc, m, n);
            return;
        }
        int mr = kernel.rows();
        int slivers = (n + kernel.columns() - 1) / kernel.columns();
        float[] aPack = buffer(A_PACK, (m + mr - 1) / mr * mr * k);
        if (inPlace(kernel, false, lda, n)) {
            int whole = m / mr * mr;
            if (whole < m && !GemmBlock.shortTiles(kernel, m - whole)) {
                GemmPacking.packA(kernel, false, a, aOffset, lda, whole, m - whole, 0, k, aPack);
            }
            GemmBlock.tiles(kernel, m, n, k, 0, slivers, alpha, beta != 0f, aPack, 0, a, aOffset, lda, 1, bPack, bBase,
                    c, cOffset, ldc);
        } else {
            GemmPacking.packA(kernel, false, a, aOffset, lda, 0, m, 0, k, aPack);
            GemmBlock.tiles(kernel, m, n, k, 0, slivers, alpha, beta != 0f, aPack, 0, null, aOffset, lda, 1, bPack,
                    bBase, c, cOffset, ldc);
        }
    }

    /**
     * The loop nest run by thread {@code part}; see the class description. Every thread walks
     * the phases in order and claims what is left of each: slivers of B to pack into the
     * phase's panel, then blocks of C to compute from it.
     */
    private static void blocked(MicroKernel kernel, GemmPlan.Plan plan, PanelSchedule schedule, int part,
                                boolean transA, float alpha, float[] a, int aOffset, int lda,
                                BSource b, boolean accumulate, float[] c, int cOffset, int ldc,
                                float[] panels, float[] packedA, float[] bias) {
        int mr = kernel.rows();
        int nr = kernel.columns();
        float[] aPack = buffer(A_PACK, plan.mcBlock * Math.min(plan.kc, plan.k));
        float[] own = plan.privatePanels ? buffer(B_PACK, plan.panelSize) : null;
        int kcBlock = plan.kc;
        int ncBlock = plan.nc;
        int m = plan.m;
        int phase = 0;
        // The block of A that aPack holds (phase, first row), so that a thread packs it once
        // for all its units of that block: in a product cut into runs of slivers over one block
        // of rows (the weight gradients' few rows), every unit of a phase shares it.
        int packedPhase = -1;
        int packedRow = -1;
        for (int jc = 0; jc < plan.n; jc += ncBlock) {
            int nc = Math.min(ncBlock, plan.n - jc);
            int slivers = (nc + nr - 1) / nr;
            for (int pc = 0; pc < plan.k; pc += kcBlock, phase++) {
                int kc = Math.min(kcBlock, plan.k - pc);
                // With a bias, C starts as the bias rows (below) and the first block of k adds to it.
                boolean add = accumulate || pc > 0 || bias != null;
                int panel = own != null ? 0 : (phase % plan.panels) * plan.panelSize;
                float[] bPanels = own != null ? own : panels;
                boolean free = false;
                // No runs to claim with private panels (plan.packRuns is 0).
                for (int run = schedule.claimPack(phase); run >= 0; run = schedule.claimPack(phase)) {
                    if (!free) {
                        // This buffer last held the panel of two phases ago.
                        schedule.awaitComputed(phase - plan.panels, part);
                        free = true;
                    }
                    int first = run * plan.perPack;
                    if (first < slivers) {
                        b.pack(pc, kc, jc, nc, first, Math.min(slivers, first + plan.perPack), panels, panel);
                    }
                    schedule.packed(phase);
                }
                boolean packed = false;
                for (int unit = schedule.claimCompute(phase); unit >= 0; unit = schedule.claimCompute(phase)) {
                    int ic = (unit / plan.groups) * plan.mcBlock;
                    int group = unit % plan.groups;
                    int mc = Math.min(plan.mcBlock, m - ic);
                    int firstSliver = (int) ((long) slivers * group / plan.groups);
                    int endSliver = (int) ((long) slivers * (group + 1) / plan.groups);
                    if (own == null) {
                        if (!packed) {
                            schedule.awaitPacked(phase, part);
                            packed = true;
                        }
                    } else if (plan.groups > 1) {
                        // One block of rows: this unit alone uses these slivers.
                        if (firstSliver < endSliver) {
                            b.pack(pc, kc, jc, nc, firstSliver, endSliver, own, 0);
                        }
                    } else if (!packed) {
                        // This thread's own copy of the whole panel, once it has a block to use it for.
                        b.pack(pc, kc, jc, nc, 0, slivers, own, 0);
                        packed = true;
                    }
                    if (pc > 0) {
                        schedule.awaitUnit(phase, unit, part);
                    }
                    if (firstSliver < endSliver) {
                        float[] aBlock = aPack;
                        int aBase = 0;
                        float[] aRows = null;
                        if (packedA != null) {
                            // Packed once for every entry of a batch: block (pc, ic) in k-block-major order.
                            aBlock = packedA;
                            aBase = ((pc / kcBlock) * plan.rowBlocks + ic / plan.mcBlock)
                                    * plan.mcBlock * Math.min(plan.kc, plan.k);
                        } else if (inPlace(kernel, transA, lda, nc)) {
                            // A read in place; only rows past the last whole tile are packed.
                            aRows = a;
                            int whole = mc / mr * mr;
                            if (whole < mc && !GemmBlock.shortTiles(kernel, mc - whole)) {
                                GemmPacking.packA(kernel, transA, a, aOffset, lda, ic + whole, mc - whole, pc, kc, aPack);
                                packedPhase = -1;
                            }
                        } else if (packedPhase != phase || packedRow != ic) {
                            GemmPacking.packA(kernel, transA, a, aOffset, lda, ic, mc, pc, kc, aPack);
                            packedPhase = phase;
                            packedRow = ic;
                        }
                        if (bias != null && pc == 0) {
                            fillBias(c, cOffset + ic * ldc, ldc, mc, jc + firstSliver * nr,
                                    Math.min(jc + nc, jc + endSliver * nr), bias);
                        } else if (!add && kernel.prewritesC()) {
                            prewrite(c, cOffset + ic * ldc, ldc, mc, jc + firstSliver * nr,
                                    Math.min(jc + nc, jc + endSliver * nr));
                        }
                        // Where op(A)'s element (i, p) lies: a row-major A has its rows lda apart,
                        // a transposed one its steps of k.
                        int rowStride = transA ? 1 : lda;
                        int stepStride = transA ? lda : 1;
                        GemmBlock.tiles(kernel, mc, nc, kc, firstSliver, endSliver, alpha, add, aBlock, aBase, aRows,
                                aOffset + ic * rowStride + pc * stepStride, rowStride, stepStride, bPanels, panel, c,
                                cOffset + ic * ldc + jc, ldc);
                    }
                    schedule.computed(phase, unit);
                }
            }
        }
    }

    /**
     * Whether a block of A is read in place rather than packed: a non-transposed A by
     * {@link MicroKernel#tileRows} where the panel of B is at most {@link #IN_PLACE_COLUMNS}
     * wide, a transposed one by {@link MicroKernel#tileColumns} within
     * {@link #IN_PLACE_TRANSPOSED_STRIDE} and {@link MicroKernel#transposedInPlaceColumns}.
     */
    static boolean inPlace(MicroKernel kernel, boolean transA, int lda, int nc) {
        return transA
                ? lda <= IN_PLACE_TRANSPOSED_STRIDE && nc <= kernel.transposedInPlaceColumns()
                : nc <= IN_PLACE_COLUMNS && kernel.readsRows();
    }

    /** Columns {@code [from, to)} of {@code rows} rows of C (row {@code r} at {@code at + r·ldc}) set to the bias. */
    private static void fillBias(float[] c, int at, int ldc, int rows, int from, int to, float[] bias) {
        for (int r = 0; r < rows; r++) {
            System.arraycopy(bias, from, c, at + r * ldc + from, to - from);
        }
    }

    /**
     * Zeroes columns {@code [from, to)} of {@code rows} rows of C (row {@code r} at
     * {@code at + r·ldc}) before the first block of k overwrites them, for a kernel that asks
     * for it ({@link MicroKernel#prewritesC}) and where they fit in {@link #PREWRITE_BYTES}.
     * The 12-row tile (12 × 32 with 512-bit vectors) stores C twelve rows and 128 bytes a row
     * at a time, into lines that a training step's fresh output buffer has in no cache and
     * that seldom start where a row does; each burst of stores waited for its lines. Written
     * row by row first, in one sequential pass that the prefetchers follow, the block is in
     * this core's cache when the tiles store into it. Nothing reads the zeros (the first block of k writes C without
     * reading it), so the bits are the same. On the Intel Xeon of 2026-12-06 (two threads,
     * operands cycling through 24 sets so that each product starts cold): 1.21–1.32× at the
     * GPT's 128-step products with 384 and 512 columns, and 0.95–1.0× with every operand
     * warm; in the GPT's training step (switched on and off every 2.1 s in one JVM) those
     * products ran 1.15–1.19× as fast and all products took 6.3 % less time. Rows of 128 values,
     * eight to a 4 KiB page, are stores the prefetchers follow anyway: there it gained nothing
     * and cost up to 8 %, hence {@link #PREWRITE_STRIDE}. The AVX2 4-row tile (same machine,
     * {@code -XX:UseAVX=2}) measured 0.85–0.95× cold with it, so it does not ask; the 12-row
     * tile with 256-bit vectors ({@code -Dadjoint.cpu.tileRows=12} without AVX-512) asks too,
     * unmeasured; it asks only where the CPU is not AMD's ({@code VectorMicroKernel12.writesAhead}).
     */
    private static void prewrite(float[] c, int at, int ldc, int rows, int from, int to) {
        if (ldc >= PREWRITE_STRIDE && (long) rows * (to - from) * Float.BYTES <= PREWRITE_BYTES) {
            for (int r = 0; r < rows; r++) {
                int row = at + r * ldc;
                Arrays.fill(c, row + from, row + to, 0f);
            }
        }
    }

    /** This thread's buffer in {@code slot}, grown to at least {@code needed} values; reused across calls. */
    static float[] buffer(ThreadLocal<float[]> slot, int needed) {
        float[] buffer = slot.get();
        if (buffer == null || buffer.length < needed) {
            buffer = new float[needed];
            slot.set(buffer);
        }
        return buffer;
    }

    /** C = beta·C over the m × n matrix; beta 0 overwrites, so NaNs already in C do not survive. */
    static void scale(float beta, float[] c, int cOffset, int ldc, int m, int n) {
        if (beta == 1f) {
            return;
        }
        for (int i = 0; i < m; i++) {
            int row = cOffset + i * ldc;
            if (beta == 0f) {
                Arrays.fill(c, row, row + n, 0f);
            } else {
                for (int j = 0; j < n; j++) {
                    c[row + j] *= beta;
                }
            }
        }
    }
}
