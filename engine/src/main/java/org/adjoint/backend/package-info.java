/**
 * The service-provider interface that every compute backend implements, and the lookup
 * that finds backends with {@link java.util.ServiceLoader}.
 *
 * <p>A backend computes; it never sees autodiff. Every primitive and every derivative rule
 * of the engine is expressed as calls on {@link org.adjoint.backend.Backend}, so one rule
 * serves every device.
 *
 * <p>The interface comes in groups. {@link org.adjoint.backend.BackendCore} is what a backend
 * must implement: {@link org.adjoint.backend.MemoryOps} (allocation by element type and count,
 * transfers, fill, cast, strided copy), {@link org.adjoint.backend.ArithmeticOps} (GEMM, unary
 * and binary element-wise functions), {@link org.adjoint.backend.ReductionOps} (sums over axes,
 * maximum along an axis) and {@link org.adjoint.backend.IndexOps} (gather, scatter-add). The
 * composed groups ({@link org.adjoint.backend.SoftmaxOps},
 * {@link org.adjoint.backend.LinearTailOps}, {@link org.adjoint.backend.CrossEntropyOps},
 * {@link org.adjoint.backend.UpdateOps}) have default bodies written only with the core; a
 * backend overrides them where it has something faster. {@link org.adjoint.backend.FusedAdam}
 * is an optional part that the optimizer looks for. Operations are named by
 * {@link org.adjoint.backend.UnaryOp} and {@link org.adjoint.backend.BinaryOp}, the one
 * vocabulary of the engine and every backend.
 */
package org.adjoint.backend;
