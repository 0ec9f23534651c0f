package org.adjoint;

/**
 * Element types of tensor storage. Only {@link #F32} is computed on today; backends refuse
 * the others with an exception naming the operation and the type.
 */
public enum DType {
    /** IEEE 754 single precision, 4 bytes. */
    F32(4),
    /** bfloat16: float32's exponent with a 7-bit mantissa, 2 bytes. */
    BF16(2),
    /** IEEE 754 half precision, 2 bytes. */
    F16(2);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /**
     * Bytes one element takes.
     *
     * @return the element size
     */
    public int bytes() {
        return bytes;
    }
}
