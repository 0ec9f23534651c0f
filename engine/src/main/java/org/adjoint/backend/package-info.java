/**
 * The service-provider interface that every compute backend implements, and the lookup
 * that finds backends with {@link java.util.ServiceLoader}.
 *
 * <p>A backend computes; it never sees autodiff. Every primitive and every derivative rule
 * of the engine is expressed as calls on {@link org.adjoint.backend.Backend}, so one rule
 * serves every device.
 */
package org.adjoint.backend;
