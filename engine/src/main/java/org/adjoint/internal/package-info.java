/**
 * Implementation of the engine: shapes, the recorded graph, the backward pass and one class
 * per primitive. Public only so that the engine's packages can share it; not an API, and it
 * changes without notice.
 */
package org.adjoint.internal;
