package org.adjoint.backend;

/**
 * A device that stores buffers and runs the engine's kernels on them: the required
 * {@link BackendCore} and the composed operations, each group with default bodies written
 * only with the core ({@link SoftmaxOps}, {@link LinearTailOps}, {@link CrossEntropyOps},
 * {@link UpdateOps}, {@link ConvolutionOps}, {@link StridedOps}, {@link NormalizationOps},
 * {@link AttentionOps}, {@link PoolingOps}, {@link RandomOps}, {@link SelectOps}). A backend
 * overrides a composed operation where it has something faster; it may also implement
 * optional parts such as {@link FusedAdam}.
 *
 * <p>Implementations are found with {@link java.util.ServiceLoader} (register the class in
 * {@code META-INF/services/org.adjoint.backend.Backend}) and selected by {@link Backends}. A
 * backend is an instance, not a singleton: several instances (one per device, or two CPU
 * backends with their own buffer pools) may live in one process, and tensors remember the
 * instance that holds them.
 */
public interface Backend extends SoftmaxOps, LinearTailOps, CrossEntropyOps, UpdateOps, ConvolutionOps,
        StridedOps, NormalizationOps, AttentionOps, PoolingOps, RandomOps, SelectOps {
}
