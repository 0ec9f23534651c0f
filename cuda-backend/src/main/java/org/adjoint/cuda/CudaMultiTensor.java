package org.adjoint.cuda;

import static org.adjoint.cuda.CudaBackend.cuda;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.function.IntToLongFunction;
import java.util.function.Supplier;

import org.adjoint.backend.Buffer;
import org.adjoint.cuda.internal.CudaBuffer;
import org.adjoint.cuda.internal.CudaDevice;
import org.adjoint.cuda.internal.CudaKernels;
import org.adjoint.cuda.internal.MultiTensorLaunches;
import org.adjoint.kernels.cuda.CudaKernelSource;
import org.adjoint.kernels.cuda.TensorTable;

/**
 * The multi-tensor work of a {@link CudaBackend}: many buffers in one launch, through a table
 * of their addresses copied to the device ({@link TensorTable}). An optimizer's step, its
 * {@code zeroGrad} and gradient clipping each touch every parameter; one launch per parameter
 * (four for a norm) kept the host queueing hundreds of small kernels a step.
 */
final class CudaMultiTensor {

    /** Tables kept on the device for reuse (each at most 64 KiB). */
    private static final int CACHED_TABLES = 64;

    /** Entries of one table: 8,192 longs fill one small-upload slot. */
    private static final int MAX_ENTRIES = 8192 / CudaKernelSource.TABLE_WIDTH;

    private final Supplier<CudaDevice> device;
    /** The last {@value #CACHED_TABLES} tables on the device, by content, least recently used first. */
    private final Map<TableKey, CudaBuffer> tables = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<TableKey, CudaBuffer> eldest) {
            if (size() <= CACHED_TABLES) {
                return false;
            }
            eldest.getValue().release();
            return true;
        }
    };

    /**
     * @param device the backend's device, asked for at each launch (it throws when the backend is unavailable)
     */
    CudaMultiTensor(Supplier<CudaDevice> device) {
        this.device = device;
    }

    void fill(List<Buffer> buffers, float value) {
        for (int[] run : runs(buffers.size(), i -> new long[] {cuda(buffers.get(i)).address()}, i -> NONE)) {
            TensorTable layout = layout(run, i -> new long[] {cuda(buffers.get(i)).address()},
                    i -> cuda(buffers.get(i)).size());
            launchRepeating(layout, (kernels, table) -> kernels.multiTensor().fillMany(table, layout, value));
        }
    }

    void axpy(float alpha, Buffer[] xs, Buffer[] ys, int count) {
        IntFunction<long[]> written = i -> new long[] {cuda(ys[i]).address()};
        for (int[] run : runs(count, written, i -> new long[] {cuda(xs[i]).address()})) {
            TensorTable layout = layout(run, i -> new long[] {cuda(xs[i]).address(), cuda(ys[i]).address()},
                    i -> cuda(xs[i]).size());
            launch(layout, (kernels, table) -> kernels.multiTensor().axpyMany(table, layout, alpha));
        }
    }

    void adam(Buffer[] params, Buffer[] grads, Buffer[] firstMoments, Buffer[] secondMoments, int count, float beta1,
              float beta2, float sqrtCorrection2, float epsilon, float step, float decay, float shrink) {
        IntFunction<long[]> written = i -> new long[] {cuda(params[i]).address(), cuda(firstMoments[i]).address(),
            cuda(secondMoments[i]).address()};
        for (int[] run : runs(count, written, i -> new long[] {cuda(grads[i]).address()})) {
            TensorTable layout = layout(run, i -> new long[] {cuda(params[i]).address(), cuda(grads[i]).address(),
                cuda(firstMoments[i]).address(), cuda(secondMoments[i]).address()}, i -> cuda(params[i]).size());
            launchRepeating(layout, (kernels, table) -> kernels.multiTensor().adamMany(table, layout, beta1, beta2, sqrtCorrection2,
                    epsilon, step, decay, shrink));
        }
    }

    void globalNorm(List<Buffer> buffers, Buffer norm) {
        long out = cuda(norm).address();
        List<TensorTable> layouts = new ArrayList<>();
        long chunks = 0;
        // Only reads: a buffer listed twice counts twice, as in the composed sum.
        for (int[] run : runs(buffers.size(), i -> NONE, i -> NONE)) {
            TensorTable layout = layout(run, i -> new long[] {cuda(buffers.get(i)).address()},
                    i -> cuda(buffers.get(i)).size());
            layouts.add(layout);
            chunks += layout.chunks();
        }
        CudaDevice gpu = device.get();
        if (chunks == 0) {
            gpu.fill(cuda(norm), 0, 1, 0f);
            return;
        }
        // The tables' chunks write their sums of squares (doubles) one after another.
        CudaBuffer partials = gpu.allocate(2 * chunks, false);
        try {
            long offset = 0;
            for (TensorTable layout : layouts) {
                long at = partials.address() + offset * Double.BYTES;
                launchRepeating(layout, (kernels, table) -> kernels.multiTensor().squaresMany(table, layout, at));
                offset += layout.chunks();
            }
            long count = chunks;
            gpu.withKernels(kernels -> kernels.multiTensor().normFromSquares(partials.address(), count, out));
        } finally {
            gpu.release(partials);
        }
    }

    void clipToNorm(List<Buffer> buffers, Buffer norm, float maxNorm) {
        long bound = cuda(norm).address();
        // A buffer listed twice is scaled twice, as the composed form does, in two launches.
        for (int[] run : runs(buffers.size(), i -> new long[] {cuda(buffers.get(i)).address()}, i -> NONE)) {
            TensorTable layout = layout(run, i -> new long[] {cuda(buffers.get(i)).address()},
                    i -> cuda(buffers.get(i)).size());
            launchRepeating(layout, (kernels, table) -> kernels.multiTensor().clipMany(table, layout, bound, maxNorm));
        }
    }

    private static final long[] NONE = {};

    /**
     * Items {@code 0..count} cut into runs of consecutive items, a launch each: the entries of
     * one launch run at once, so a run ends before an item would write a buffer the run
     * already writes or reads, or read one it writes (a tied weight's two contributions, a
     * parameter listed twice), and after {@link #MAX_ENTRIES} items (a table's room).
     *
     * @param count  items
     * @param writes each item's written device addresses
     * @param reads  each item's read ones
     * @return {@code [from, to)} of each run, in order
     */
    private static List<int[]> runs(int count, IntFunction<long[]> writes, IntFunction<long[]> reads) {
        List<int[]> runs = new ArrayList<>();
        int from = 0;
        while (from < count) {
            Addresses written = new Addresses(Math.min(count - from, MAX_ENTRIES) * 4);
            Addresses read = new Addresses(Math.min(count - from, MAX_ENTRIES) * 2);
            int to = from;
            while (to < count && to - from < MAX_ENTRIES) {
                long[] itemWrites = writes.apply(to);
                long[] itemReads = reads.apply(to);
                if (!fits(itemWrites, itemReads, written, read)) {
                    break;
                }
                written.addAll(itemWrites);
                read.addAll(itemReads);
                to++;
            }
            runs.add(new int[] {from, to});
            from = to;
        }
        return runs;
    }

    private static boolean fits(long[] writes, long[] reads, Addresses written, Addresses read) {
        for (long address : writes) {
            if (written.contains(address) || read.contains(address)) {
                return false;
            }
        }
        for (long address : reads) {
            if (written.contains(address)) {
                return false;
            }
        }
        return true;
    }

    /** A set of device addresses (open addressing, no boxing): a run's buffers, a few hundred. */
    private static final class Addresses {
        private final long[] slots;
        private boolean hasZero;

        Addresses(int expected) {
            slots = new long[Integer.highestOneBit(Math.max(4, expected) * 2) * 2];
        }

        boolean contains(long address) {
            if (address == 0) {
                return hasZero;
            }
            for (int i = slot(address); ; i = (i + 1) & (slots.length - 1)) {
                if (slots[i] == address) {
                    return true;
                }
                if (slots[i] == 0) {
                    return false;
                }
            }
        }

        void addAll(long[] addresses) {
            for (long address : addresses) {
                if (address == 0) {
                    hasZero = true;
                    continue;
                }
                int i = slot(address);
                while (slots[i] != 0 && slots[i] != address) {
                    i = (i + 1) & (slots.length - 1);
                }
                slots[i] = address;
            }
        }

        private int slot(long address) {
            long mixed = address * 0x9E3779B97F4A7C15L;
            return (int) (mixed >>> 40) & (slots.length - 1);
        }
    }

    private interface TableLaunch {
        /**
         * Queues the kernels that read a table.
         *
         * @param kernels the device's kernels
         * @param table   the table's device address
         */
        void launch(CudaKernels kernels, long table);
    }

    private static TensorTable layout(int[] run, IntFunction<long[]> pointers, IntToLongFunction counts) {
        long[] sizes = new long[run[1] - run[0]];
        long[][] addresses = new long[sizes.length][];
        for (int k = 0; k < sizes.length; k++) {
            sizes[k] = counts.applyAsLong(run[0] + k);
            addresses[k] = pointers.apply(run[0] + k);
        }
        return TensorTable.of(MultiTensorLaunches.TABLE_CHUNK, sizes, addresses);
    }

    /** A table's values, compared by content. */
    private record TableKey(long[] values) {
        @Override
        public boolean equals(Object other) {
            return other instanceof TableKey key && Arrays.equals(values, key.values);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(values);
        }
    }

    /** Copies a table to the device and queues its kernels (nothing when it has no chunk). */
    private void launch(TensorTable layout, TableLaunch launch) {
        if (layout.chunks() == 0) {
            return;
        }
        CudaDevice gpu = device.get();
        CudaBuffer table = gpu.uploadTable(layout.values());
        try {
            gpu.withKernels(kernels -> launch.launch(kernels, table.address()));
        } finally {
            // The cache hands the block out again only to work queued after these kernels.
            gpu.release(table);
        }
    }

    /**
     * {@link #launch}, for a table that repeats: a training loop hands an optimizer's step,
     * {@code zeroGrad} and clipping the same buffers every step (gradients keep theirs), so
     * the copy of an equal table made before is used again, with no upload.
     */
    private void launchRepeating(TensorTable layout, TableLaunch launch) {
        if (layout.chunks() == 0) {
            return;
        }
        CudaDevice gpu = device.get();
        CudaBuffer table;
        synchronized (tables) {
            TableKey key = new TableKey(layout.values());
            table = tables.get(key);
            if (table == null) {
                table = gpu.uploadTable(layout.values());
                tables.put(key, table);
            }
            CudaBuffer uploaded = table;
            // Launched under the cache's lock: an evicted table is released only after the
            // kernels that read it are queued (the allocator reuses it for later work only).
            gpu.withKernels(kernels -> launch.launch(kernels, uploaded.address()));
        }
    }
}
