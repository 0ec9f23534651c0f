package org.adjoint.kernels;

import java.util.Arrays;

/**
 * How {@link PackedGemm} cuts one product into work for its threads: the {@link Plan} of one
 * call (blocks of rows of C, runs of slivers, panels of B), and {@link #cut}, which chooses
 * the blocks and runs whose units end soonest by a count of tiles. Every cut gives the same
 * bits: it only chooses which thread computes which tiles.
 */
final class GemmPlan {

    private GemmPlan() {
    }

    /**
     * How one call is cut: blocks of rows of C ({@code mcBlock}, whole tiles, at most MC), each
     * split into {@code groups} runs of slivers; panels of B of at most {@code KC × NC}, packed
     * in runs of {@code perPack} slivers, two of them alternating when several threads share
     * the work, or one a thread ({@link #privatePanels}). With several threads the cut is the one
     * of {@link #cut} that ends soonest.
     */
    static final class Plan {
        final int m;
        final int n;
        final int k;
        final int kc;
        final int nc;
        final int mcBlock;
        final int rowBlocks;
        final int slivers;
        final int perPack;
        final int packRuns;
        final int groups;
        final int phases;
        final int panels;
        final int panelSize;
        /**
         * Whether each thread packs what it needs of each panel of B for itself instead of the
         * threads sharing one: the whole panel where the cut is by rows alone and each thread
         * has {@link #PRIVATE_PANEL_ROWS} rows, or each unit's own slivers where there is one
         * block of rows (no sliver is then used by two units, so none is packed twice).
         */
        final boolean privatePanels;

        Plan(MicroKernel kernel, boolean transA, int lda, int m, int n, int k, int threads) {
            this(kernel, GemmBlocking.forTile(kernel.rows(), kernel.columns()), transA, lda, m, n, k, threads);
        }

        /** The plan under the given block sizes instead of this machine's (for tests of other caches). */
        Plan(MicroKernel kernel, GemmBlocking blocking, boolean transA, int lda, int m, int n, int k, int threads) {
            int mr = kernel.rows();
            int nr = kernel.columns();
            kc = blocking.kc();
            nc = blocking.nc();
            int mc = blocking.mc();
            this.m = m;
            this.n = n;
            this.k = k;
            slivers = (Math.min(nc, n) + nr - 1) / nr;
            int[] cut = threads > 1
                    ? cut(kernel, !PackedGemm.inPlace(kernel, transA, lda, Math.min(nc, n)), m, Math.min(nc, n), mc,
                            threads)
                    : new int[] {Math.max(1, mc / mr), 1};
            mcBlock = cut[0] * mr;
            rowBlocks = (m + mcBlock - 1) / mcBlock;
            groups = cut[1];
            privatePanels = threads > 1 && (groups == 1 && (long) m >= (long) PRIVATE_PANEL_ROWS * threads
                    || rowBlocks == 1 && groups > 1);
            // With few slivers, runs of SLIVERS_PER_PACK left one thread packing the whole panel
            // while the others waited for it: as many runs as threads, or a multiple of it.
            int runs = threads > 1
                    ? threads * ((slivers + GemmPacking.SLIVERS_PER_PACK * threads - 1)
                            / (GemmPacking.SLIVERS_PER_PACK * threads))
                    : (slivers + GemmPacking.SLIVERS_PER_PACK - 1) / GemmPacking.SLIVERS_PER_PACK;
            perPack = Math.max(1, (slivers + runs - 1) / runs);
            packRuns = privatePanels ? 0 : (slivers + perPack - 1) / perPack;
            phases = ((n + nc - 1) / nc) * ((k + kc - 1) / kc);
            panels = threads > 1 && phases > 1 && !privatePanels ? 2 : 1;
            panelSize = slivers * nr * Math.min(kc, k);
        }
    }

    /**
     * Rows of C per thread from which every thread packs each panel of B for itself, in its own
     * buffer, rather than the threads packing one shared panel between them. A shared panel is
     * written half by one core and read whole by both, so half of what each core reads comes
     * from the other core's cache; on a virtual machine whose two cores may sit on different
     * core complexes, that transfer made the two-thread products of the GPT (48 products of 768
     * or 128 rows, {@code -XX:UseAVX=2}, the same JVM alternating the two ways) 11–16 % slower
     * in some minutes and 0–2 % in others. Packing privately costs each thread the whole panel
     * instead of its share, about {@code 20·threads / m} of its multiply-adds' time, so it is
     * kept for products with many rows a thread, cut by rows alone (each thread needs all of
     * the panel then). A product cut into runs of slivers over one block of rows (the GPT's
     * 128-row weight gradients) packs each unit's slivers where it computes
     * them, with no copy twice; the others (rows and runs both cut, or few rows a thread) share
     * one panel.
     */
    static final int PRIVATE_PANEL_ROWS = 256;

    /** Cost of one unit of work claimed ({@link #cut}), in full tiles of one block of k. */
    private static final double UNIT_COST = 0.2;
    /** Cost of one short tile ({@link MicroKernel#tileShort}) against a full tile. */
    private static final double SHORT_TILE_COST = 0.5;
    /** Cost of packing one tile's rows of A against computing one full tile. */
    private static final double PACK_COST = 0.15;
    /** How much later a cut of two units a thread may end and still be preferred ({@link #cut}). */
    private static final double FINE_SLACK = 0.05;

    /**
     * How {@code threads} threads share the {@code m × width} product of one panel: returns
     * tiles per block of rows and runs of slivers per block, the pair whose units, claimed in
     * order by threads of equal speed, end soonest by a count of tiles (full, short, edge) and
     * of rows of A packed, preferring two units a thread or more when they end at most
     * {@link #FINE_SLACK} later. The first candidate is the rule that cuts rows alone into two
     * blocks a thread (slivers too when the rows are few); the others cut the rows into 1 to
     * {@code 2·threads} blocks of whole tiles and the slivers into 1 to {@code 2·threads}
     * runs. Cutting rows alone split the GPT's weight gradients ({@code xᵀ·dY}, 128 rows)
     * 72/56 between two threads (36-row blocks of 12-row tiles); the same product cut into
     * runs of slivers splits evenly. Last, a cut of all the rows in one block, in
     * {@code 2·threads} runs of slivers, is taken where it ends at most {@link #FINE_SLACK}
     * later than the chosen one (with A read in place they end alike): nothing of B is then
     * shared between threads. Every cut gives the same bits: it only chooses which thread
     * computes which tiles.
     */
    static int[] cut(MicroKernel kernel, boolean packsA, int m, int width, int mc, int threads) {
        int mr = kernel.rows();
        int nr = kernel.columns();
        int slivers = (width + nr - 1) / nr;
        int maxTiles = Math.max(1, mc / mr);
        int rowsPerUnit = (m + 2 * threads - 1) / (2 * threads);
        int tiles = Math.min(maxTiles, Math.max(1, (rowsPerUnit + mr - 1) / mr));
        int blocks = (m + tiles * mr - 1) / (tiles * mr);
        int groups = blocks < 2 * threads
                ? Math.max(1, Math.min(slivers, (2 * threads + blocks - 1) / blocks)) : 1;
        int[] best = {tiles, groups};
        double bestEnd = finish(kernel, packsA, m, width, tiles, groups, threads);
        int[] fine = blocks * groups >= 2 * threads ? best : null;
        double fineEnd = fine != null ? bestEnd : Double.MAX_VALUE;
        int mTiles = (m + mr - 1) / mr;
        for (int rowCuts = 1; rowCuts <= 2 * threads; rowCuts++) {
            int candidate = (mTiles + rowCuts - 1) / rowCuts;
            if (candidate > maxTiles) {
                continue;
            }
            int rowBlocks = (m + candidate * mr - 1) / (candidate * mr);
            for (int runs = 1; runs <= Math.min(slivers, 2 * threads); runs++) {
                double end = finish(kernel, packsA, m, width, candidate, runs, threads);
                if (end < bestEnd) {
                    bestEnd = end;
                    best = new int[] {candidate, runs};
                }
                if (rowBlocks * runs >= 2 * threads && end < fineEnd) {
                    fineEnd = end;
                    fine = new int[] {candidate, runs};
                }
            }
        }
        // Two units a thread or more where that costs little: a thread descheduled while it
        // holds a unit (another process on the core) then keeps the others waiting for less.
        int[] chosen = fine != null && fineEnd <= bestEnd * (1 + FINE_SLACK) ? fine : best;
        double chosenEnd = chosen == fine ? fineEnd : bestEnd;
        // One block of all the rows in runs of slivers, where it ends about as soon: each unit
        // then packs its own slivers and no panel is shared between cores (Plan.privatePanels).
        int runs = Math.min(slivers, 2 * threads);
        if (mTiles <= maxTiles && runs >= 2 * threads && (chosen[0] < mTiles || chosen[1] < 2)
                && finish(kernel, packsA, m, width, mTiles, runs, threads) <= chosenEnd * (1 + FINE_SLACK)) {
            return new int[] {mTiles, runs};
        }
        return chosen;
    }

    /**
     * When the last of {@code threads} equal threads ends, in full tiles, claiming in order the
     * units of blocks of {@code tiles} tiles of rows, each cut into {@code groups} runs of
     * slivers as {@code PackedGemm.blocked} cuts them; a packed block of A costs a thread
     * nothing more in the next unit it takes of the same block.
     */
    private static double finish(MicroKernel kernel, boolean packsA, int m, int width, int tiles, int groups,
                                 int threads) {
        int mr = kernel.rows();
        int nr = kernel.columns();
        int slivers = (width + nr - 1) / nr;
        // A last sliver of few columns runs its full tiles as narrow ones.
        boolean narrowLast = width - (slivers - 1) * nr <= kernel.narrowColumns();
        double narrowSaving = narrowLast ? 1 - (double) kernel.narrowColumns() / nr : 0;
        int mcBlock = tiles * mr;
        double[] free = new double[threads];
        // The block each thread last packed: its next unit of that block packs nothing (PackedGemm.blocked).
        int[] packed = new int[threads];
        Arrays.fill(packed, -1);
        for (int ic = 0; ic < m; ic += mcBlock) {
            int rows = Math.min(mcBlock, m - ic);
            int whole = rows / mr;
            int rest = rows - whole * mr;
            double perSliver = whole;
            double packing = packsA ? (whole + (rest > 0 ? 1 : 0)) * PACK_COST : 0;
            if (rest > 0 && GemmBlock.shortTiles(kernel, rest)) {
                perSliver += (double) rest / kernel.shortRows() * SHORT_TILE_COST;
            } else if (rest > 0) {
                perSliver += 1;
                packing = packsA ? packing : PACK_COST;
            }
            for (int group = 0; group < groups; group++) {
                int end = (int) ((long) slivers * (group + 1) / groups);
                int runSlivers = end - (int) ((long) slivers * group / groups);
                double saving = end == slivers ? whole * narrowSaving : 0;
                int first = 0;
                for (int t = 1; t < threads; t++) {
                    if (free[t] < free[first]) {
                        first = t;
                    }
                }
                if (runSlivers > 0) {
                    free[first] += UNIT_COST + (packsA && packed[first] == ic ? 0 : packing) + perSliver * runSlivers - saving;
                    packed[first] = ic;
                }
            }
        }
        double end = 0;
        for (double time : free) {
            end = Math.max(end, time);
        }
        return end;
    }
}
