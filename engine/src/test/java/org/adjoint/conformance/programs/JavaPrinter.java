package org.adjoint.conformance.programs;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import org.adjoint.autodiff.GradCheck;

/**
 * Prints a program as Java statements against the public API, followed by the check that
 * failed, so that a failure can be pasted into a test as it is. The statements need
 * {@code org.adjoint.Tensor}, {@code org.adjoint.autodiff.*}, {@code org.adjoint.nn.*},
 * {@code java.util.List} and {@code java.util.function.Function}.
 */
public final class JavaPrinter {

    private JavaPrinter() {
    }

    /**
     * The inputs and the function, as statements declaring {@code inputs} and {@code program}.
     *
     * @param p the program
     * @return Java statements
     */
    public static String program(Program p) {
        int[][] shapes = p.shapes();
        StringBuilder out = new StringBuilder();
        out.append("List<Tensor> inputs = List.of(");
        for (int j = 0; j < p.inputs().size(); j++) {
            out.append(j == 0 ? "\n        " : ",\n        ").append(input(p.inputs().get(j)));
        }
        out.append(");\n");
        out.append("Function<List<Tensor>, Tensor> program = in -> {\n");
        for (int j = 0; j < p.inputs().size(); j++) {
            out.append("    Tensor ").append(name(p, j)).append(" = in.get(").append(j).append(");\n");
        }
        for (int s = 0; s < p.steps().size(); s++) {
            int index = p.inputs().size() + s;
            out.append("    Tensor ").append(name(p, index)).append(" = ")
                    .append(call(p, p.steps().get(s), shapes)).append(";\n");
        }
        out.append("    return ").append(name(p, p.inputs().size() + p.steps().size() - 1)).append(";\n");
        out.append("};\n");
        return out.toString();
    }

    /**
     * The program followed by the statements that run one check on it.
     *
     * @param p       the program
     * @param outcome how it failed
     * @return Java statements ending in a call that throws when the check fails
     */
    public static String failing(Program p, ProgramChecker.Outcome outcome) {
        String check = outcome.check();
        GradCheck.Tolerance tolerance = outcome.tolerance() == null ? GradCheck.Tolerance.float32() : outcome.tolerance();
        int[][] shapes = p.shapes();
        String outShape = dims(shapes[shapes.length - 1]);
        long seed = ProgramChecker.cotangentSeed(p);
        String tol = "new GradCheck.Tolerance(" + tolerance.step() + ", " + tolerance.absolute() + ", "
                + tolerance.relative() + ")";
        StringBuilder out = new StringBuilder(program(p));
        switch (check) {
            case ProgramChecker.FINITE -> out.append("GradCheck.finiteDifferences(in -> program.apply(in).mul(Tensor.randn(")
                    .append(ProgramChecker.weightSeed(p)).append("L").append(outShape).append(")).sum(), inputs,\n        ")
                    .append(tol).append(").assertPassed();\n");
            case ProgramChecker.ADJOINT -> out.append("GradCheck.adjointIdentity(program, inputs, ").append(seed)
                    .append("L, ").append(tol).append(").assertPassed();\n");
            case ProgramChecker.FORWARD -> {
                out.append("// forward mode must agree with reverse mode: <J v, u> = <v, J^T u>\n");
                out.append("GradCheck.forwardMode(program, inputs, ").append(seed).append("L).assertPassed();\n");
            }
            default -> {
                out.append("// ").append(check).append(": compare the output and the gradients of backward(u) with\n");
                out.append("// Autodiff.vjp's pullback of u (and with the reference backend's, for that check)\n");
                out.append("Tensor u = Tensor.randn(").append(seed).append("L").append(outShape).append(");\n");
                out.append("List<Tensor> pulled = Autodiff.vjp(program, inputs).pullback().apply(u);\n");
            }
        }
        return out.toString();
    }

    private static String input(Program.Input in) {
        if (in.shape().length == 0) {
            return "Tensor.scalar(" + literal(in.data()[0]) + ")";
        }
        StringBuilder values = new StringBuilder();
        for (float v : in.data()) {
            values.append(values.isEmpty() ? "" : ", ").append(literal(v));
        }
        return "Tensor.of(new float[] {" + values + "}" + dims(in.shape()) + ")";
    }

    private static String name(Program p, int value) {
        return (value < p.inputs().size() ? "x" : "t") + value;
    }

    /** The dimensions as trailing varargs: {@code ", 2, 3"}, or nothing for rank 0. */
    private static String dims(int[] shape) {
        return Arrays.stream(shape).mapToObj(d -> ", " + d).collect(Collectors.joining());
    }

    private static String literal(float v) {
        return v + "f";
    }

    private static String call(Program p, Step step, int[][] shapes) {
        int[] op = step.operands();
        String a = name(p, op[0]);
        String b = op.length > 1 && op[1] >= 0 ? name(p, op[1]) : null;
        String c = literal(step.constant());
        return switch (step.kind()) {
            case NEG -> a + ".neg()";
            case TANH -> a + ".tanh()";
            case SIGMOID -> a + ".sigmoid()";
            case RELU -> a + ".relu()";
            case EXP -> step.prefix().java(a) + ".exp()";
            case LOG -> step.prefix().java(a) + ".log()";
            case SQRT -> step.prefix().java(a) + ".sqrt()";
            case POW -> step.prefix().java(a) + ".pow(" + c + ")";
            case ADD_SCALAR -> a + ".add(" + c + ")";
            case SUB_SCALAR -> a + ".sub(" + c + ")";
            case MUL_SCALAR -> a + ".mul(" + c + ")";
            case DIV_SCALAR -> a + ".div(" + c + ")";
            case ADD -> a + ".add(" + b + ")";
            case SUB -> a + ".sub(" + b + ")";
            case MUL -> a + ".mul(" + b + ")";
            case DIV -> a + ".div(" + step.prefix().java(b) + ")";
            case MATMUL -> a + ".matmul(" + b + (step.flag() ? ".transpose()" : "") + ")";
            case TRANSPOSE -> a + ".transpose()";
            case RESHAPE -> a + ".reshape(" + list(step.shape()) + ")";
            case SUM -> a + ".sum()";
            case MEAN -> a + ".mean()";
            case SUM_AXIS -> a + ".sum(" + step.axis() + ", " + step.flag() + ")";
            case MEAN_AXIS -> a + ".mean(" + step.axis() + ", " + step.flag() + ")";
            case MAX_AXIS -> a + ".max(" + step.axis() + ", " + step.flag() + ")";
            case SOFTMAX -> a + ".softmax(" + step.axis() + ")";
            case LOG_SOFTMAX -> a + ".logSoftmax(" + step.axis() + ")";
            case LINEAR -> linear(p, step, shapes);
            case CROSS_ENTROPY -> {
                int[] shape = shapes[op[0]];
                yield "Losses.crossEntropy(" + a + ", new int[] {" + Arrays.stream(Ops.labels(step.seed(), shape[0],
                        shape[1])).mapToObj(Integer::toString).collect(Collectors.joining(", ")) + "})";
            }
            case CONV2D -> conv2d(p, step, shapes);
            case MAX_POOL2D, AVG_POOL2D -> {
                int[] g = step.geometry();
                yield "Functional." + (step.kind() == Kind.MAX_POOL2D ? "maxPool2d(" : "avgPool2d(") + image(a, step)
                        + ", " + g[0] + ", " + g[1] + ", " + g[2] + ")";
            }
            case BATCH_NORM -> batchNorm(p, step, shapes);
            case GELU -> a + ".gelu()";
            case LAYER_NORM -> NormSteps.java(step, shapes, v -> name(p, v));
            case ATTENTION -> "Functional.scaledDotProductAttention(" + a + ", " + b + ", " + name(p, op[2]) + ", "
                    + step.flag() + ")";
            case CUSTOM -> step.custom().java(a);
            case PERMUTE -> a + ".permute(" + list(step.shape()) + ")";
            case TRANSPOSE_AXES -> a + ".transpose(" + step.geometry()[0] + ", " + step.geometry()[1] + ")";
            case NARROW -> a + ".narrow(" + step.axis() + ", " + step.geometry()[0] + ", " + step.geometry()[1] + ")";
            case SPLIT -> a + ".split(" + step.geometry()[0] + ", " + step.axis() + ").get(" + step.geometry()[1] + ")";
            case CAT -> "Tensor.cat(List.of(" + a + ", " + b + "), " + step.axis() + ")";
            case STACK -> "Tensor.stack(List.of(" + a + ", " + b + "), " + step.axis() + ")";
            case INDEX_SELECT -> a + ".indexSelect(" + step.axis() + ", new int[] {" + list(step.geometry()) + "})";
            case MASKED_FILL -> a + ".maskedFill(" + StructureSteps.maskJava(step) + ", " + c + ")";
        };
    }

    /** An image operation's first operand, with the reshape the step names. */
    private static String image(String a, Step step) {
        return step.shape().length == 0 ? a : a + ".reshape(" + list(step.shape()) + ")";
    }

    private static String list(int[] values) {
        return Arrays.stream(values).mapToObj(Integer::toString).collect(Collectors.joining(", "));
    }

    /** A parameter read from value {@code v}, reshaped as {@code Ops} reshapes it. */
    private static String parameter(Program p, int v, int[][] shapes, int... shape) {
        return Arrays.equals(shapes[v], shape) ? name(p, v) : name(p, v) + ".reshape(" + list(shape) + ")";
    }

    private static String conv2d(Program p, Step step, int[][] shapes) {
        int[] op = step.operands();
        int[] g = step.geometry();
        int[] image = step.shape().length == 0 ? shapes[op[0]] : step.shape();
        int[] weightShape = Ops.convWeightShape(step, image[1]);
        String weight = op[1] >= 0 ? parameter(p, op[1], shapes, weightShape)
                : "Tensor.randn(" + step.seed() + "L, " + list(weightShape) + ").mul(" + literal(step.constant()) + ")";
        String bias = switch (op[2]) {
            case Step.ABSENT -> "null";
            case Step.CONSTANT -> "Tensor.randn(" + (step.seed() + 1) + "L, " + g[0] + ").mul(0.5f)";
            default -> parameter(p, op[2], shapes, g[0]);
        };
        if (Ops.asModule(step)) {
            return "new Conv2d(" + weight + ", " + bias + ", " + g[3] + ", " + g[4] + ", " + g[5] + ", " + g[6]
                    + ", Activation.IDENTITY).apply(" + image(name(p, op[0]), step) + ")";
        }
        return "Functional.conv2d(" + image(name(p, op[0]), step) + ", " + weight + ", " + bias + ", " + g[3] + ", "
                + g[4] + ", " + g[5] + ", " + g[6] + ")";
    }

    private static String batchNorm(Program p, Step step, int[][] shapes) {
        int[] op = step.operands();
        int channels = (step.shape().length == 0 ? shapes[op[0]] : step.shape())[1];
        String weight = switch (op[1]) {
            case Step.ABSENT -> "null";
            case Step.CONSTANT -> "Tensor.randn(" + (step.seed() + 2) + "L, " + channels + ").mul(0.5f).add(1f)";
            default -> parameter(p, op[1], shapes, channels);
        };
        String bias = switch (op[2]) {
            case Step.ABSENT -> "null";
            case Step.CONSTANT -> "Tensor.randn(" + (step.seed() + 3) + "L, " + channels + ").mul(0.5f)";
            default -> parameter(p, op[2], shapes, channels);
        };
        String statistics = !step.flag() ? "null, null"
                : "Tensor.randn(" + step.seed() + "L, " + channels + ").mul(0.5f), Tensor.randn(" + (step.seed() + 1)
                        + "L, " + channels + ").sigmoid().add(0.5f)";
        return "Functional.batchNorm(" + image(name(p, op[0]), step) + ", " + statistics + ", " + weight + ", " + bias
                + ", " + !step.flag() + ", 0.1f, " + literal(step.constant()) + ")";
    }

    private static String linear(Program p, Step step, int[][] shapes) {
        int[] op = step.operands();
        int in = Ops.inFeatures(shapes[op[0]]);
        int out = op[1] >= 0 ? shapes[op[1]][1] : step.shape()[0];
        String weight = op[1] >= 0 ? name(p, op[1])
                : "Tensor.randn(" + step.seed() + "L, " + in + ", " + out + ").mul(" + literal(step.constant()) + ")";
        String bias = switch (op[2]) {
            case Step.ABSENT -> "null";
            case Step.CONSTANT -> "Tensor.randn(" + (step.seed() + 1) + "L, " + out + ").mul(0.5f)";
            default -> name(p, op[2]);
        };
        return "new Linear(" + weight + ", " + bias + ", Activation." + step.activation() + ").apply(" + name(p, op[0])
                + ")";
    }

    /**
     * The imports the printed statements need.
     *
     * @return import declarations, one per line
     */
    public static List<String> imports() {
        return List.of("import java.util.List;", "import java.util.function.Function;", "import org.adjoint.Tensor;",
                "import org.adjoint.autodiff.Autodiff;", "import org.adjoint.autodiff.GradCheck;",
                "import org.adjoint.nn.Activation;", "import org.adjoint.nn.Conv2d;", "import org.adjoint.nn.Functional;", "import org.adjoint.nn.Linear;",
                "import org.adjoint.nn.Losses;");
    }
}
