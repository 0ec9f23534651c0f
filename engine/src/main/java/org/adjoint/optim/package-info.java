/** Optimizers that update parameters in place. */
package org.adjoint.optim;
