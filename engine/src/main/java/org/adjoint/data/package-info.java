/**
 * Training data: readers for the IDX format of MNIST ({@link org.adjoint.data.Idx}) and for
 * numeric CSV tables ({@link org.adjoint.data.Csv}), and {@link org.adjoint.data.Dataset},
 * which splits examples and serves them in seeded, shuffled mini-batches whose labels go
 * straight into {@link org.adjoint.nn.Losses#crossEntropy(org.adjoint.Tensor, int[])}.
 */
package org.adjoint.data;
