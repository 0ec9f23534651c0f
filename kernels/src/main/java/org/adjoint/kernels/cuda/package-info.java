/**
 * The CUDA C source of Adjoint's device kernels, shipped as a resource and compiled at run
 * time (NVRTC) by the CUDA backend.
 *
 * <p>This package only hands out the text and the names of its entry points; it needs no
 * GPU, no CUDA libraries and no JNI. The kernels mirror the CPU kernels of
 * {@link org.adjoint.kernels}: the same enum ordinals, the same special cases, and the same
 * accumulation order where the CPU's order is part of the result (sums into a smaller
 * shape).
 */
package org.adjoint.kernels.cuda;
