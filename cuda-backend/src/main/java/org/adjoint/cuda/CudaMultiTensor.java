package org.adjoint.cuda;

import static org.adjoint.cuda.CudaBackend.cuda;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

import org.adjoint.backend.Buffer;
import org.adjoint.cuda.internal.CudaBuffer;
import org.adjoint.cuda.internal.CudaDevice;
import org.adjoint.cuda.internal.CudaKernels;
import org.adjoint.kernels.cuda.CudaKernelSource;
import org.adjoint.kernels.cuda.TensorTable;

/**
 * The multi-tensor work of a {@link CudaBackend}: many buffers in one launch, through a table
 * of their addresses copied to the device ({@link TensorTable}). An optimizer's step, its
 * {@code zeroGrad} and gradient clipping each touch every parameter; one launch per parameter
 * (four for a norm) kept the host queueing hundreds of small kernels a step.
 */
final class CudaMultiTensor {

    /** Entries of one table: 8,192 longs fill one small-upload slot. */
    private static final int MAX_ENTRIES = 8192 / CudaKernelSource.TABLE_WIDTH;

    private static final Function<Buffer, long[]> ADDRESS = b -> new long[] {cuda(b).address()};
    private static final ToLongFunction<Buffer> SIZE = b -> cuda(b).size();

    private final Supplier<CudaDevice> device;

    /**
     * @param device the backend's device, asked for at each launch (it throws when the backend is unavailable)
     */
    CudaMultiTensor(Supplier<CudaDevice> device) {
        this.device = device;
    }

    void fill(List<Buffer> buffers, float value) {
        for (List<Buffer> run : runs(buffers)) {
            TensorTable layout = layout(run, ADDRESS, SIZE);
            launch(layout, (kernels, table) -> kernels.fillMany(table, layout, value));
        }
    }

    void axpy(float alpha, Buffer[] xs, Buffer[] ys, int count) {
        // Entries of one launch run at once, so a run ends before a buffer it writes would be
        // written again or read by a later pair (a tied weight's two contributions).
        int from = 0;
        while (from < count) {
            Set<Buffer> written = Collections.newSetFromMap(new IdentityHashMap<>());
            Set<Buffer> read = Collections.newSetFromMap(new IdentityHashMap<>());
            int to = from;
            while (to < count && to - from < MAX_ENTRIES && !written.contains(ys[to]) && !written.contains(xs[to])
                    && !read.contains(ys[to])) {
                written.add(ys[to]);
                read.add(xs[to]);
                to++;
            }
            List<Integer> run = IntStream.range(from, to).boxed().toList();
            TensorTable layout = layout(run, i -> new long[] {cuda(xs[i]).address(), cuda(ys[i]).address()},
                    i -> cuda(xs[i]).size());
            launch(layout, (kernels, table) -> kernels.axpyMany(table, layout, alpha));
            from = to;
        }
    }

    void adam(Buffer[] params, Buffer[] grads, Buffer[] firstMoments, Buffer[] secondMoments, int count, float beta1,
              float beta2, float sqrtCorrection2, float epsilon, float step, float decay, float shrink) {
        List<Integer> indices = IntStream.range(0, count).boxed().toList();
        for (List<Integer> run : runs(indices)) {
            TensorTable layout = layout(run, i -> new long[] {cuda(params[i]).address(), cuda(grads[i]).address(),
                cuda(firstMoments[i]).address(), cuda(secondMoments[i]).address()}, i -> cuda(params[i]).size());
            launch(layout, (kernels, table) -> kernels.adamMany(table, layout, beta1, beta2, sqrtCorrection2, epsilon,
                    step, decay, shrink));
        }
    }

    void globalNorm(List<Buffer> buffers, Buffer norm) {
        long out = cuda(norm).address();
        List<TensorTable> layouts = new ArrayList<>();
        long chunks = 0;
        for (List<Buffer> run : runs(buffers)) {
            TensorTable layout = layout(run, ADDRESS, SIZE);
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
                launch(layout, (kernels, table) -> kernels.squaresMany(table, layout, at));
                offset += layout.chunks();
            }
            long count = chunks;
            gpu.withKernels(kernels -> kernels.normFromSquares(partials.address(), count, out));
        } finally {
            gpu.release(partials);
        }
    }

    void clipToNorm(List<Buffer> buffers, Buffer norm, float maxNorm) {
        long bound = cuda(norm).address();
        for (List<Buffer> run : runs(buffers)) {
            TensorTable layout = layout(run, ADDRESS, SIZE);
            launch(layout, (kernels, table) -> kernels.clipMany(table, layout, bound, maxNorm));
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

    /** Items in runs of at most {@link #MAX_ENTRIES}, a table each. */
    private static <T> List<List<T>> runs(List<T> items) {
        List<List<T>> runs = new ArrayList<>();
        for (int from = 0; from < items.size(); from += MAX_ENTRIES) {
            runs.add(items.subList(from, Math.min(items.size(), from + MAX_ENTRIES)));
        }
        return runs;
    }

    private static <T> TensorTable layout(List<T> items, Function<T, long[]> pointers, ToLongFunction<T> counts) {
        long[] sizes = new long[items.size()];
        long[][] addresses = new long[items.size()][];
        for (int k = 0; k < sizes.length; k++) {
            sizes[k] = counts.applyAsLong(items.get(k));
            addresses[k] = pointers.apply(items.get(k));
        }
        return TensorTable.of(CudaKernels.TABLE_CHUNK, sizes, addresses);
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
}
