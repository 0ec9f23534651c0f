/**
 * Implementation of the CUDA backend: the device (context, stream, transfers), the caching
 * allocator, the cuBLAS and NVRTC bindings (JCuda for CUDA 12, {@code java.lang.foreign} for
 * CUDA 13), the optional cuDNN binding for convolutions ({@code java.lang.foreign}), the
 * row-major GEMM mapping and the kernels' launches. Public only so that
 * {@link org.adjoint.cuda.CudaBackend} can use it; not an API.
 */
package org.adjoint.cuda.internal;
