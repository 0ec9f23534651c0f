/**
 * Automatic differentiation beyond {@code Tensor.backward()}: grad mode scopes and the
 * gradient-check utility.
 */
package org.adjoint.autodiff;
