package org.adjoint.cuda.internal;

import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.UnaryOp;
import org.adjoint.kernels.ElementWise;
import org.adjoint.kernels.Fused;
import org.adjoint.kernels.Strided;

/**
 * This backend's one table from the SPI's operation names to the codes the CUDA kernels take
 * (the kernels module's enum ordinals). Exhaustive switches: a name added to the SPI without a
 * kernel fails to compile here instead of failing by name at run time.
 */
public final class KernelCodes {

    private KernelCodes() {
    }

    /**
     * The kernel code of a unary function.
     *
     * @param op the SPI's name
     * @return the {@link ElementWise.Unary} ordinal
     */
    public static int unary(UnaryOp op) {
        return (switch (op) {
            case NEG -> ElementWise.Unary.NEG;
            case EXP -> ElementWise.Unary.EXP;
            case LOG -> ElementWise.Unary.LOG;
            case SQRT -> ElementWise.Unary.SQRT;
            case TANH -> ElementWise.Unary.TANH;
            case SIGMOID -> ElementWise.Unary.SIGMOID;
            case RELU -> ElementWise.Unary.RELU;
            case STEP -> ElementWise.Unary.STEP;
            case POW -> ElementWise.Unary.POW;
            case GELU -> ElementWise.Unary.GELU;
            case GELU_GRAD -> ElementWise.Unary.GELU_GRAD;
        }).ordinal();
    }

    /**
     * The kernel code of a binary function.
     *
     * @param op the SPI's name
     * @return the {@link Strided.Binary} ordinal
     */
    public static int binary(BinaryOp op) {
        return (switch (op) {
            case ADD -> Strided.Binary.ADD;
            case SUB -> Strided.Binary.SUB;
            case MUL -> Strided.Binary.MUL;
            case DIV -> Strided.Binary.DIV;
        }).ordinal();
    }

    /**
     * The kernel code of the linear tail's activation.
     *
     * @param op {@code RELU}, {@code TANH}, {@code SIGMOID}, or {@code null} for none
     * @return the {@link Fused.Activation} ordinal
     * @throws IllegalArgumentException for any other function
     */
    public static int activation(UnaryOp op) {
        return (switch (op) {
            case null -> Fused.Activation.IDENTITY;
            case RELU -> Fused.Activation.RELU;
            case TANH -> Fused.Activation.TANH;
            case SIGMOID -> Fused.Activation.SIGMOID;
            default -> throw new IllegalArgumentException("linear tail: " + op + " is not a fused activation "
                    + "(RELU, TANH, SIGMOID, or null for none)");
        }).ordinal();
    }
}
