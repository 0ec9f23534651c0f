/**
 * One class per primitive: its forward computation, the state it saves, and the
 * vector-Jacobian product for each input. Composite operations ({@code sub}, {@code div},
 * {@code mean}) are built in {@link org.adjoint.Tensor} from these and carry no rule.
 */
package org.adjoint.internal.ops;
