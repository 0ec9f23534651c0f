/**
 * JMH suites for the CPU kernels and a training step, each run for both kernel providers
 * ({@code vector} and {@code scalar}): {@link org.adjoint.bench.jmh.GemmBench} times SGEMM
 * alone, {@link org.adjoint.bench.jmh.MlpStepBench} one SGD step of a 784-1024-1024-1024-10
 * MLP. {@code bench/compare.sh} runs both next to NumPy (OpenBLAS) and PyTorch and prints
 * the ratios. {@link org.adjoint.bench.jmh.CheckpointBench} times one step of a 64-layer tanh
 * chain under each gradient-checkpointing policy and reports its peak memory.
 * {@link org.adjoint.bench.jmh.PoolBench} times the CPU backend's 2×2 max pooling, its
 * scatter and the convolution weight gradient at the Fashion-MNIST CNN's shapes.
 *
 * <p>Run them from the shaded jar, for example:
 * <pre>{@code
 * java --add-modules jdk.incubator.vector -cp bench/target/adjoint.jar \
 *     org.openjdk.jmh.Main GemmBench -p provider=vector -p shape=1024
 * }</pre>
 */
package org.adjoint.bench.jmh;
