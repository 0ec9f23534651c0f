/**
 * One class per primitive, each a {@link org.adjoint.internal.Primitive}: its forward
 * computation, what it saves, the VJP for each input and the JVP; element-wise functions are
 * the rows of {@link org.adjoint.internal.ops.Pointwise}. Composite operations ({@code sub},
 * {@code div}, {@code mean}) are built in {@link org.adjoint.Tensor} from these and carry no
 * rule.
 */
package org.adjoint.internal.ops;
