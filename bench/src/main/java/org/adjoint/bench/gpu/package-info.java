/** The figures a GPU machine is asked for: SGEMM, MLP steps and checkpointing memory on the CUDA backend. */
package org.adjoint.bench.gpu;
