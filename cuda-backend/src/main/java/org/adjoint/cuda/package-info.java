/**
 * The CUDA backend: float32 buffers in GPU memory behind a caching allocator, GEMM through
 * cuBLAS, convolutions through cuDNN where it loads, and the CUDA C kernels of
 * {@code adjoint-kernels} compiled by NVRTC for the device.
 * Selected by default when a GPU and its libraries load, or with {@code -Dadjoint.backend=cuda};
 * otherwise it reports why it is unavailable and the CPU backend runs.
 */
package org.adjoint.cuda;
