package org.adjoint.backend;

import java.util.Optional;

/**
 * A device that stores float32 buffers and runs the engine's kernels on them.
 *
 * <p>Implementations are found with {@link java.util.ServiceLoader} (register the class in
 * {@code META-INF/services/org.adjoint.backend.Backend}) and selected by {@link Backends}.
 * All arrays are row-major and contiguous unless a method takes strides. Callers check
 * shapes and sizes before calling; a backend may assume its arguments are consistent.
 * Methods that write an output overwrite it completely unless documented otherwise.
 */
public interface Backend {

    /**
     * Short lower-case name used by {@code -Dadjoint.backend}, for example {@code cpu}.
     *
     * @return the name
     */
    String name();

    /**
     * Preference among available backends; the highest wins when none is requested.
     *
     * @return the priority (CPU uses 0, accelerators more)
     */
    int priority();

    /**
     * Why this backend cannot run here, or empty when it can.
     *
     * @return the reason it is unavailable, for example a missing native library
     */
    Optional<String> unavailableReason();

    /**
     * Allocates zero-filled storage.
     *
     * @param size element count
     * @return a new buffer
     */
    Buffer allocate(long size);

    /**
     * Hands back a buffer that no tensor uses any more, so that the backend can reuse it for
     * a later {@link #allocate}. The engine calls this only for buffers it allocated and
     * never exposed (cotangents and temporaries of a backward pass); a backend that does not
     * pool ignores it. The buffer must not be used afterwards.
     *
     * @param buffer a buffer of this backend
     */
    default void release(Buffer buffer) {
    }

    /**
     * Copies host data into a new buffer.
     *
     * @param data elements in order
     * @return a new buffer holding a copy of {@code data}
     */
    Buffer upload(float[] data);

    /**
     * Copies a buffer to the host.
     *
     * @param buffer storage of this backend
     * @return a new array with every element
     */
    float[] download(Buffer buffer);

    /**
     * Batched general matrix multiply {@code C = alpha·op(A)·op(B) + beta·C} on contiguous
     * row-major matrices. {@code op(A)} is {@code m × k} (stored {@code k × m} when
     * {@code transA}); {@code op(B)} is {@code k × n} (stored {@code n × k} when
     * {@code transB}). Entry {@code p} of the batch starts at {@code p * stride} in each
     * buffer; a stride of 0 reuses one matrix for the whole batch.
     *
     * @param transA  whether A is stored transposed
     * @param transB  whether B is stored transposed
     * @param batch   number of products
     * @param m       rows of the result
     * @param n       columns of the result
     * @param k       inner dimension
     * @param alpha   scale of the product
     * @param a       left matrices
     * @param aStride elements between consecutive A
     * @param b       right matrices
     * @param bStride elements between consecutive B
     * @param beta    scale of C's previous contents (0 overwrites)
     * @param c       result matrices
     * @param cStride elements between consecutive C
     */
    void gemm(boolean transA, boolean transB, int batch, int m, int n, int k,
              float alpha, Buffer a, long aStride, Buffer b, long bStride,
              float beta, Buffer c, long cStride);

    /**
     * Sets every element to {@code value}.
     *
     * @param buffer updated in place
     * @param value  the value
     */
    void fill(Buffer buffer, float value);

    /**
     * {@code y[r, c] = activation(y[r, c] + bias[c])} in place on a {@code rows × cols}
     * matrix (the fused tail of a linear layer).
     *
     * @param activation the function
     * @param y          the matrix, updated in place
     * @param bias       {@code cols} values, or {@code null} for none
     * @param rows       row count
     * @param cols       column count
     */
    void biasActivation(org.adjoint.nn.Activation activation, Buffer y, Buffer bias, int rows, int cols);

    /**
     * The activation's VJP in one pass: {@code out = cotangent · activation'}, with the
     * derivative taken from the activation's output {@code y}.
     *
     * @param activation the function
     * @param y          activation outputs
     * @param cotangent  their cotangent
     * @param out        result of the same size
     */
    void activationGrad(org.adjoint.nn.Activation activation, Buffer y, Buffer cotangent, Buffer out);

    /**
     * Mean negative log-likelihood {@code −(1/rows) Σ_r logp[r, label_r]} into a one-element
     * buffer.
     *
     * @param logProbabilities {@code rows × cols}
     * @param labels           {@code rows} class indices stored as floats
     * @param rows             row count
     * @param cols             class count
     * @param out              one element
     */
    void negativeLogLikelihood(Buffer logProbabilities, Buffer labels, int rows, int cols, Buffer out);

    /**
     * VJP of softmax cross-entropy with respect to the logits:
     * {@code out = scale · (e^logp − onehot(labels))}.
     *
     * @param logProbabilities {@code rows × cols}
     * @param labels           {@code rows} class indices stored as floats
     * @param rows             row count
     * @param cols             class count
     * @param scale            the loss's cotangent divided by {@code rows}
     * @param out              {@code rows × cols}
     */
    void crossEntropyGrad(Buffer logProbabilities, Buffer labels, int rows, int cols, float scale, Buffer out);

    /**
     * {@code y += alpha · x} in place, element by element (same size).
     *
     * @param alpha scale of {@code x}
     * @param x     the addend
     * @param y     updated in place
     */
    void axpy(float alpha, Buffer x, Buffer y);

    /**
     * {@code out[i] = op(x[i])} for every element.
     *
     * @param op        the function
     * @param parameter its parameter (the exponent of {@link UnaryOp#POW}; ignored otherwise)
     * @param x         input
     * @param out       output of the same size (may be {@code x})
     */
    void unary(UnaryOp op, float parameter, Buffer x, Buffer out);

    /**
     * Element-wise {@code out = op(lhs, rhs)} over {@code shape}, each operand addressed by
     * its strides (0 on broadcast axes); {@code out} is contiguous.
     *
     * @param op         the function
     * @param lhs        left operand
     * @param lhsStrides its stride per axis of {@code shape}
     * @param rhs        right operand
     * @param rhsStrides its stride per axis of {@code shape}
     * @param out        output, contiguous over {@code shape}
     * @param shape      iteration shape
     */
    void binary(BinaryOp op, Buffer lhs, int[] lhsStrides, Buffer rhs, int[] rhsStrides, Buffer out, int[] shape);

    /**
     * Gathers a strided view of {@code src} into contiguous {@code out} (broadcast with
     * stride 0, transpose with swapped strides).
     *
     * @param src        source
     * @param srcStrides stride per axis of {@code shape}
     * @param out        output, contiguous over {@code shape}
     * @param shape      iteration shape
     */
    void copyStrided(Buffer src, int[] srcStrides, Buffer out, int[] shape);

    /**
     * Sums contiguous {@code src} of {@code shape} into {@code out}, which is addressed by
     * {@code outStrides} per source axis (0 on summed axes).
     *
     * @param src        source, contiguous over {@code shape}
     * @param shape      source shape
     * @param out        output (overwritten)
     * @param outStrides output stride per source axis
     */
    void sumTo(Buffer src, int[] shape, Buffer out, int[] outStrides);

    /**
     * Maximum along one axis of {@code x} seen as {@code [outer, length, inner]}, and a
     * one-hot mask of the input's size marking the first maximal element of each lane.
     *
     * @param x      input
     * @param outer  product of the axes before the reduced one
     * @param length length of the reduced axis (at least 1)
     * @param inner  product of the axes after it
     * @param values output, {@code outer * inner} elements
     * @param mask   output of the input's size
     */
    void max(Buffer x, int outer, int length, int inner, Buffer values, Buffer mask);

    /**
     * Softmax (or log-softmax) along one axis of {@code x} seen as {@code [outer, length, inner]}.
     *
     * @param x      input
     * @param outer  product of the axes before the axis
     * @param length length of the axis
     * @param inner  product of the axes after it
     * @param log    whether to compute log-softmax
     * @param out    output of the input's size
     */
    void softmax(Buffer x, int outer, int length, int inner, boolean log, Buffer out);
}
