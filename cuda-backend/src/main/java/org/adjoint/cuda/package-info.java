/**
 * The CUDA backend. In this version it only reports why it cannot run; device memory,
 * cuBLAS GEMM and the element-wise kernels arrive with the CUDA issue.
 */
package org.adjoint.cuda;
