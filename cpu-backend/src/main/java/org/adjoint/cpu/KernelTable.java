package org.adjoint.cpu;

import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.UnaryOp;
import org.adjoint.kernels.ElementWise;
import org.adjoint.kernels.Fused;
import org.adjoint.kernels.Strided;

/**
 * The one table from the SPI's operation names to the kernels' own (the kernels module
 * imports nothing of the engine, so it keeps its enums). Exhaustive switches: a name added to
 * the SPI without a kernel fails to compile here instead of failing by name at run time.
 */
public final class KernelTable {

    private KernelTable() {
    }

    /**
     * The kernel of a unary function.
     *
     * @param op the SPI's name
     * @return the kernels' name
     */
    public static ElementWise.Unary unary(UnaryOp op) {
        return switch (op) {
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
        };
    }

    /**
     * The kernel of a binary function.
     *
     * @param op the SPI's name
     * @return the kernels' name
     */
    public static Strided.Binary binary(BinaryOp op) {
        return switch (op) {
            case ADD -> Strided.Binary.ADD;
            case SUB -> Strided.Binary.SUB;
            case MUL -> Strided.Binary.MUL;
            case DIV -> Strided.Binary.DIV;
        };
    }

    /**
     * The fused kernels' activation for the linear tail's function.
     *
     * @param op {@code RELU}, {@code TANH}, {@code SIGMOID}, or {@code null} for none
     * @return the kernels' name
     * @throws IllegalArgumentException for any other function
     */
    public static Fused.Activation activation(UnaryOp op) {
        return switch (op) {
            case null -> Fused.Activation.IDENTITY;
            case RELU -> Fused.Activation.RELU;
            case TANH -> Fused.Activation.TANH;
            case SIGMOID -> Fused.Activation.SIGMOID;
            default -> throw new IllegalArgumentException("linear tail: " + op + " is not a fused activation "
                    + "(RELU, TANH, SIGMOID, or null for none)");
        };
    }
}
