/**
 * Adjoint's user-facing façade: {@link org.adjoint.Tensor}, a float32 n-dimensional array
 * with NumPy broadcasting and reverse-mode automatic differentiation.
 */
package org.adjoint;
