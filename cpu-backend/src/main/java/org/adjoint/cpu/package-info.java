/**
 * The CPU backend: float32 buffers on the Java heap and the kernels of
 * {@code adjoint-kernels}. Selected by default when no accelerator is available, or with
 * {@code -Dadjoint.backend=cpu}.
 */
package org.adjoint.cpu;
