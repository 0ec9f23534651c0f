package org.adjoint.cuda.internal;

import org.adjoint.kernels.cuda.TensorTable;

/**
 * The multi-tensor kernels of {@code adjoint.cu}: one launch over every buffer of a
 * {@link TensorTable} whose device copy the caller has uploaded ({@code fill_many},
 * {@code axpy_many}, {@code adam_many}, {@code squares_many} with {@code norm_from_squares},
 * {@code clip_many}). Reached through {@link CudaKernels#multiTensor()}, under the device's lock.
 */
public final class MultiTensorLaunches {

    private final CudaKernels kernels;

    MultiTensorLaunches(CudaKernels kernels) {
        this.kernels = kernels;
    }

    /**
     * Elements per chunk of the multi-tensor kernels ({@link TensorTable}): 16 per thread of a
     * block. The global norm's partial sums, one per chunk, depend on it.
     */
    public static final long TABLE_CHUNK = 16L * LaunchGrid.THREADS;

    private int tableBlocks(TensorTable table) {
        return (int) Math.max(1, Math.min(kernels.grid().cap(), table.chunks()));
    }

    /**
     * Every element of the table's first buffers set to {@code value}.
     *
     * @param table  the device copy of {@code layout}'s values
     * @param layout the table
     * @param value  the value
     */
    public void fillMany(long table, TensorTable layout, float value) {
        kernels.launch("fill_many", tableBlocks(layout), new KernelArguments().address(table).i32(layout.entries())
                .i64(layout.chunks()).i64(layout.chunk()).f32(value));
    }

    /**
     * {@link CudaKernels#axpy} on every entry of a table (pointers x, y): {@code y += alpha · x}.
     *
     * @param table  the device copy of {@code layout}'s values, no {@code y} twice
     * @param layout the table
     * @param alpha  scale of the addends
     */
    public void axpyMany(long table, TensorTable layout, float alpha) {
        kernels.launch("axpy_many", tableBlocks(layout), new KernelArguments().address(table).i32(layout.entries())
                .i64(layout.chunks()).i64(layout.chunk()).f32(alpha));
    }

    /**
     * {@link CudaKernels#adam} on every entry of a table (pointers p, g, m, v), with the same scalars.
     *
     * @param table  the device copy of {@code layout}'s values
     * @param layout the table
     * @param beta1           β1
     * @param beta2           β2
     * @param sqrtCorrection2 √(1 − β2^t)
     * @param epsilon         ε
     * @param step            −lr / (1 − β1^t)
     * @param decay           coupled weight decay, 0 for none
     * @param shrink          decoupled factor, 1 for none
     */
    public void adamMany(long table, TensorTable layout, float beta1, float beta2, float sqrtCorrection2,
                         float epsilon, float step, float decay, float shrink) {
        kernels.launch("adam_many", tableBlocks(layout), new KernelArguments().address(table).i32(layout.entries())
                .i64(layout.chunks()).i64(layout.chunk()).f32(beta1).f32(beta2).f32(sqrtCorrection2).f32(epsilon)
                .f32(step).f32(decay).f32(shrink));
    }

    /**
     * The sums of squares of the table's first buffers, one per chunk, in double: the first
     * half of a global norm.
     *
     * @param table    the device copy of {@code layout}'s values
     * @param layout   the table
     * @param partials where the {@code layout.chunks()} doubles go
     */
    public void squaresMany(long table, TensorTable layout, long partials) {
        kernels.launch("squares_many", tableBlocks(layout), new KernelArguments().address(table).i32(layout.entries())
                .i64(layout.chunks()).i64(layout.chunk()).address(partials));
    }

    /**
     * {@code norm[0] = sqrtf((float) Σ partials)}: the second half of a global norm.
     *
     * @param partials {@code count} doubles
     * @param count    how many
     * @param norm     one float, written
     */
    public void normFromSquares(long partials, long count, long norm) {
        kernels.launch("norm_from_squares", 1, new KernelArguments().address(partials).i64(count).address(norm));
    }

    /**
     * The table's first buffers scaled to the norm {@code maxNorm} when {@code norm[0]} is above it.
     *
     * @param table   the device copy of {@code layout}'s values
     * @param layout  the table
     * @param norm    one float, the norm
     * @param maxNorm the bound
     */
    public void clipMany(long table, TensorTable layout, long norm, float maxNorm) {
        kernels.launch("clip_many", tableBlocks(layout), new KernelArguments().address(table).i32(layout.entries())
                .i64(layout.chunks()).i64(layout.chunk()).address(norm).f32(maxNorm));
    }
}
