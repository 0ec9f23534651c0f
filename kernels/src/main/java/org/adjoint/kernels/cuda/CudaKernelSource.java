package org.adjoint.kernels.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The CUDA C source of the device kernels ({@value #RESOURCE}) and the names of its entry
 * points.
 *
 * <p>The source includes no header, so NVRTC compiles it as it is, and declares every entry
 * point {@code extern "C"}, so that a module's function is found by the plain name listed in
 * {@link #kernelNames()}. Its opening comment gives each kernel's launch configuration; each
 * kernel's comment gives its contract. Enum arguments are Java ordinals:
 * {@code unary} takes {@link org.adjoint.kernels.ElementWise.Unary}, {@code binary}
 * {@link org.adjoint.kernels.Strided.Binary}, {@code bias_activation} and
 * {@code activation_grad} {@link org.adjoint.kernels.Fused.Activation}.
 *
 * <p>The strided kernels take a {@code struct Strided} by value, which the caller writes
 * byte by byte: {@value #STRIDED_BYTES} bytes, little-endian, 8-byte aligned; an
 * {@code int rank} at offset 0, 4 bytes of padding, then {@code long long shape[8]} at
 * offset {@value #STRIDED_SHAPE_OFFSET}, {@code long long a[8]} at offset
 * {@value #STRIDED_A_OFFSET} and {@code long long b[8]} at offset {@value #STRIDED_B_OFFSET}
 * (element strides, 0 on broadcast axes).
 */
public final class CudaKernelSource {

    /** Class-path location of the source. */
    public static final String RESOURCE = "/org/adjoint/kernels/cuda/adjoint.cu";

    /** Largest rank of a {@code Strided} index space. */
    public static final int MAX_RANK = 8;

    /** Size in bytes of {@code struct Strided}. */
    public static final int STRIDED_BYTES = 200;

    /** Byte offset of {@code Strided.shape}. */
    public static final int STRIDED_SHAPE_OFFSET = 8;

    /** Byte offset of {@code Strided.a}. */
    public static final int STRIDED_A_OFFSET = 72;

    /** Byte offset of {@code Strided.b}. */
    public static final int STRIDED_B_OFFSET = 136;

    /**
     * Long longs per entry of a multi-tensor kernel's table ({@code fill_many},
     * {@code axpy_many}, {@code adam_many}, {@code squares_many}, {@code clip_many}): the element count, the
     * entry's first chunk, then four device pointers.
     */
    public static final int TABLE_WIDTH = 6;

    /** Threads per block that every kernel is written for (1-D blocks). */
    public static final int THREADS_PER_BLOCK = 256;

    /**
     * Softmax rows ({@code inner == 1}) at least this long are shared by a block: launch
     * one block per row ({@code outer} blocks) for them, one thread per lane otherwise.
     */
    public static final int SOFTMAX_ROW_BLOCK_MIN_LENGTH = 128;

    /** Widest query, key or value rows the attention kernels take; wider ones run the composed default. */
    public static final int ATTENTION_MAX_DIM = 128;

    private static final List<String> KERNEL_NAMES = List.of(
            "fill",
            "dropout_mask",
            "axpy",
            "adam",
            "fill_many",
            "axpy_many",
            "adam_many",
            "squares_many",
            "norm_from_squares",
            "clip_many",
            "unary",
            "unary_times",
            "binary",
            "copy_strided",
            "copy_strided_to",
            "masked_fill",
            "sum_to",
            "column_sums",
            "sum_to_parts",
            "max_axis",
            "softmax",
            "layer_norm",
            "layer_norm_grad",
            "layer_norm_grad_weight",
            "gather",
            "scatter_add",
            "scatter_add_parts",
            "scatter_add_combine",
            "im2col",
            "col2im",
            "bias_activation",
            "activation_grad",
            "nll",
            "cross_entropy_grad",
            "attention_forward_32",
            "attention_forward_64",
            "attention_forward_128",
            "attention_backward_query_32",
            "attention_backward_query_64",
            "attention_backward_query_128",
            "attention_backward_key_32",
            "attention_backward_key_64",
            "attention_backward_key_128");

    private static String cached;

    private CudaKernelSource() {
    }

    /**
     * The source text, read from the class path on first use.
     *
     * @return the CUDA C source
     * @throws IllegalStateException when the resource is missing from the class path
     * @throws UncheckedIOException  when it cannot be read
     */
    public static synchronized String source() {
        if (cached == null) {
            cached = read();
        }
        return cached;
    }

    /**
     * The entry points that the source defines, in the order of its kernels.
     *
     * @return the unmangled kernel names (an immutable list)
     */
    public static List<String> kernelNames() {
        return KERNEL_NAMES;
    }

    private static String read() {
        try (InputStream in = CudaKernelSource.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("CUDA kernel source " + RESOURCE + " is not on the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the CUDA kernel source " + RESOURCE, e);
        }
    }
}
