/**
 * Automatic differentiation beyond {@code Tensor.backward()}: functional transforms, custom
 * rules, grad mode scopes, anomaly detection and the gradient-check utility. Grad mode,
 * anomaly mode and the tape are confined to a thread; see {@link org.adjoint.autodiff.GradMode}.
 */
package org.adjoint.autodiff;
