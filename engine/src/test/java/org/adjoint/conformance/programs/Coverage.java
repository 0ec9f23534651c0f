package org.adjoint.conformance.programs;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import org.adjoint.nn.Activation;

/** Counts what a set of programs exercised: operations, and the shape cases that matter for gradients. */
public final class Coverage {

    private final Map<Kind, Integer> kinds = new EnumMap<>(Kind.class);
    private final Map<String, Integer> features = new TreeMap<>();
    private int programs;
    private long steps;
    private int maxSteps;
    private long inputElements;

    /** Creates empty counts. */
    public Coverage() {
    }

    /**
     * Counts one program.
     *
     * @param p the program
     */
    public synchronized void add(Program p) {
        programs++;
        steps += p.steps().size();
        maxSteps = Math.max(maxSteps, p.steps().size());
        inputElements += p.inputElements();
        int[][] shapes = p.shapes();
        for (Program.Input in : p.inputs()) {
            feature("input rank " + in.shape().length);
        }
        feature(p.inputs().size() + " inputs");
        for (Step step : p.steps()) {
            kinds.merge(step.kind(), 1, Integer::sum);
            int[] op = step.operands();
            switch (step.kind()) {
                case ADD, SUB, MUL, DIV -> {
                    if (!Arrays.equals(shapes[op[0]], shapes[op[1]])) {
                        feature("broadcasting " + step.kind().name().toLowerCase());
                    }
                }
                case MATMUL -> {
                    int[] lhs = shapes[op[0]];
                    int[] rhs = shapes[op[1]];
                    if (lhs.length == 1 || rhs.length == 1) {
                        feature("matmul with a 1-D operand");
                    } else if (lhs.length > 2 || rhs.length > 2) {
                        boolean sameBatch = Arrays.equals(Arrays.copyOf(lhs, lhs.length - 2), Arrays.copyOf(rhs, rhs.length - 2));
                        feature(sameBatch ? "matmul batched" : "matmul batched with broadcast batch axes");
                    } else {
                        feature("matmul 2-D");
                    }
                    if (step.flag()) {
                        feature("matmul of a transpose");
                    }
                }
                case SUM_AXIS, MEAN_AXIS, MAX_AXIS -> feature(step.kind().name().toLowerCase() + " keepDim " + step.flag());
                case LINEAR -> {
                    feature("linear " + step.activation().name().toLowerCase());
                    feature(op[1] >= 0 ? "linear weight from a value" : "linear constant weight");
                    feature(op[2] >= 0 ? "linear bias from a value" : op[2] == Step.CONSTANT ? "linear constant bias"
                            : "linear without bias");
                    if (shapes[op[0]].length != 2) {
                        feature("linear on rank " + shapes[op[0]].length);
                    }
                }
                case CONV2D -> {
                    int[] g = step.geometry();
                    feature(op[1] >= 0 ? "conv2d weight from a value" : "conv2d constant weight");
                    feature(op[2] >= 0 ? "conv2d bias from a value" : op[2] == Step.CONSTANT ? "conv2d constant bias"
                            : "conv2d without bias");
                    if (g[3] > 1) {
                        feature("conv2d stride 2");
                    }
                    if (g[4] > 0) {
                        feature("conv2d padding");
                    }
                    if (g[5] > 1) {
                        feature("conv2d dilation 2");
                    }
                    if (g[6] > 1) {
                        feature("conv2d groups");
                    }
                    if (g[1] != g[2]) {
                        feature("conv2d rectangular kernel");
                    }
                    feature(Ops.asModule(step) ? "conv2d as the module" : "conv2d as the function");
                    imageFeatures(step);
                }
                case MAX_POOL2D, AVG_POOL2D -> {
                    int[] g = step.geometry();
                    String name = step.kind().name().toLowerCase();
                    if (g[2] > 0) {
                        feature(name + " padding");
                    }
                    if (g[1] < g[0]) {
                        feature(name + " overlapping windows");
                    }
                    imageFeatures(step);
                }
                case BATCH_NORM -> {
                    feature(step.flag() ? "batch_norm evaluation" : "batch_norm training");
                    feature(op[1] >= 0 ? "batch_norm weight from a value" : op[1] == Step.CONSTANT
                            ? "batch_norm constant weight" : "batch_norm without weight");
                    feature(op[2] >= 0 ? "batch_norm bias from a value" : op[2] == Step.CONSTANT
                            ? "batch_norm constant bias" : "batch_norm without bias");
                    int rank = (step.shape().length == 0 ? shapes[op[0]] : step.shape()).length;
                    feature("batch_norm on rank " + rank);
                }
                case LAYER_NORM -> {
                    feature("layer_norm over " + step.axis() + " axes");
                    feature(op[1] >= 0 ? "layer_norm weight from a value" : op[1] == Step.CONSTANT
                            ? "layer_norm constant weight" : "layer_norm without weight");
                    feature(op[2] >= 0 ? "layer_norm bias from a value" : op[2] == Step.CONSTANT
                            ? "layer_norm constant bias" : "layer_norm without bias");
                }
                default -> {
                }
            }
            if (step.prefix() != Step.Prefix.NONE) {
                feature("prefix " + step.prefix().name().toLowerCase());
            }
        }
    }

    /** Whether an image operation's input was an image already or a value reshaped to one. */
    private void imageFeatures(Step step) {
        feature(step.shape().length == 0 ? "image operand as it is" : "image operand reshaped");
    }

    private void feature(String name) {
        features.merge(name, 1, Integer::sum);
    }

    /**
     * How often an operation occurred.
     *
     * @param kind the operation
     * @return its count
     */
    public synchronized int count(Kind kind) {
        return kinds.getOrDefault(kind, 0);
    }

    /**
     * How often a shape case occurred.
     *
     * @param feature its name, as in {@link #toString()}
     * @return its count
     */
    public synchronized int count(String feature) {
        return features.getOrDefault(feature, 0);
    }

    /**
     * Programs counted.
     *
     * @return the count
     */
    public synchronized int programs() {
        return programs;
    }

    /**
     * Names every activation, so that a test can ask for each.
     *
     * @return feature names of the form {@code linear relu}
     */
    public static String[] linearActivations() {
        return Arrays.stream(Activation.values()).map(a -> "linear " + a.name().toLowerCase()).toArray(String[]::new);
    }

    @Override
    public synchronized String toString() {
        String ops = kinds.entrySet().stream().map(e -> e.getKey().name().toLowerCase() + " " + e.getValue())
                .collect(Collectors.joining(", "));
        String cases = features.entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining(", "));
        return programs + " programs, " + steps + " steps (mean " + String.format("%.1f", steps / Math.max(1.0, programs))
                + ", longest " + maxSteps + "), mean " + String.format("%.1f", inputElements / Math.max(1.0, programs))
                + " input elements; " + kinds.size() + " operations: " + ops + "; cases: " + cases;
    }
}
