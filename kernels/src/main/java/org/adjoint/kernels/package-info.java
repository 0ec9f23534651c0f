/**
 * Compute kernels over {@code float[]} with explicit offsets, strides and sizes.
 *
 * <p>Nothing here knows about tensors, backends or automatic differentiation: a kernel is
 * a loop with its arguments already checked by the caller. The classes in this package are
 * the scalar (pure Java) provider; they are written so that C2 can auto-vectorise the inner
 * loops, and they fix the blocking and accumulation order that a SIMD twin must mirror.
 */
package org.adjoint.kernels;
