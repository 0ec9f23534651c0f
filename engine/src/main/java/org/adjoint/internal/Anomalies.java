package org.adjoint.internal;

import java.net.URL;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.adjoint.Tensor;
import org.adjoint.autodiff.AnomalyException;
import org.adjoint.autodiff.AnomalyException.Stage;
import org.adjoint.backend.Backend;
import org.adjoint.backend.BinaryOp;
import org.adjoint.backend.Buffer;

/**
 * The checks of {@link org.adjoint.autodiff.Anomaly} mode: where an operation was created,
 * and whether a tensor holds NaN or an infinity.
 */
final class Anomalies {

    /**
     * What anomaly mode keeps about a recorded operation, for its messages.
     *
     * @param createdAt   the first stack frame outside the engine, or {@code null}
     * @param inputShapes the shapes of the operation's inputs
     */
    record Origin(StackTraceElement createdAt, int[][] inputShapes) {
    }

    private static final StackWalker WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);
    private static final List<String> ENGINE_PACKAGES = List.of("org.adjoint", "org.adjoint.autodiff",
            "org.adjoint.backend", "org.adjoint.checkpoint", "org.adjoint.data", "org.adjoint.internal",
            "org.adjoint.io", "org.adjoint.nn", "org.adjoint.optim");
    private static final URL ENGINE_LOCATION = location(Tensor.class);
    private static final ClassValue<Boolean> LIBRARY = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            return isLibrary(type);
        }
    };
    private static final int[] FLAT = {1};
    private static final int[] BROADCAST = {0};
    private static final ThreadLocal<int[]> RECORDING_RULES = ThreadLocal.withInitial(() -> new int[1]);

    private Anomalies() {
    }

    /**
     * Captures where the operation being recorded was created and its inputs' shapes.
     *
     * @param inputs the operation's inputs
     * @return the origin
     */
    static Origin capture(Tensor[] inputs) {
        Optional<StackWalker.StackFrame> frame = WALKER.walk(frames ->
                frames.filter(f -> !LIBRARY.get(f.getDeclaringClass())).findFirst());
        int[][] shapes = new int[inputs.length][];
        for (int i = 0; i < inputs.length; i++) {
            shapes[i] = inputs[i].shape();
        }
        return new Origin(frame.map(StackWalker.StackFrame::toStackTraceElement).orElse(null), shapes);
    }

    /**
     * Marks the start ({@code +1}) or end ({@code -1}) of a backward pass whose rules are
     * recorded ({@code createGraph}) on this thread. The values of the operations inside
     * those rules are not checked: the gradient each rule returns is, under the rule's name,
     * which says more than the name of an operation inside it.
     *
     * @param change {@code +1} or {@code -1}
     */
    static void recordingRules(int change) {
        RECORDING_RULES.get()[0] += change;
    }

    /**
     * Whether this thread is running recorded rules, whose inner values are not checked.
     *
     * @return true inside a {@code createGraph} backward pass
     */
    static boolean inRecordedRules() {
        return RECORDING_RULES.get()[0] > 0;
    }

    /**
     * Checks a recorded operation's inputs that no recorded operation produced (their values
     * were never checked), then its output.
     *
     * @param op     the operation's name
     * @param output its result
     * @param inputs its inputs
     * @param origin where it was created
     * @throws AnomalyException at the first NaN or infinity
     */
    static void checkForward(String op, Tensor output, Tensor[] inputs, Origin origin) {
        for (int i = 0; i < inputs.length; i++) {
            if (TensorImpl.of(inputs[i]).producer() == null) {
                long index = firstNonFinite(inputs[i]);
                if (index >= 0) {
                    throw anomaly(op, Stage.FORWARD, "input " + i + " " + Shapes.str(TensorImpl.of(inputs[i]).shape()),
                            inputs[i], index, origin, ", and no recorded operation computed it (a parameter, a "
                                    + "constant, or a value computed with recording off)");
                }
            }
        }
        long index = firstNonFinite(output);
        if (index >= 0) {
            throw anomaly(op, Stage.FORWARD, "output " + Shapes.str(TensorImpl.of(output).shape()), output, index, origin,
                    "");
        }
    }

    /**
     * Checks the gradient a node's rule produced for one input.
     *
     * @param node  the node
     * @param input the input's index
     * @param grad  the rule's result
     * @throws AnomalyException at the first NaN or infinity
     */
    static void checkGradient(Node node, int input, Tensor grad) {
        long index = firstNonFinite(grad);
        if (index >= 0) {
            throw anomaly(node.name(), Stage.BACKWARD, "gradient for input " + input + " "
                    + Shapes.str(TensorImpl.of(grad).shape()), grad, index, node.origin(), "");
        }
    }

    /**
     * Adds where a node was created to an error its rule threw (a saved tensor changed in
     * place, a shape mismatch in a custom rule), as a suppressed exception.
     *
     * @param error the error
     * @param node  the node whose rule threw it
     */
    static void note(RuntimeException error, Node node) {
        if (error instanceof AnomalyException) {
            return;
        }
        Origin origin = node.origin();
        IllegalStateException note = new IllegalStateException("anomaly mode: the failing '" + node.name()
                + "' was created at " + (origin == null ? "an unknown place (recorded with anomaly mode off)"
                : where(origin.createdAt())));
        note.setStackTrace(new StackTraceElement[0]);
        error.addSuppressed(note);
    }

    private static AnomalyException anomaly(String op, Stage stage, String what, Tensor holder, long index,
                                            Origin origin, String detail) {
        float value = TensorImpl.of(holder).backend().download(Compute.buffer(holder))[(int) index];
        int[] shape = TensorImpl.of(holder).shape();
        String element = shape.length > 1 ? " " + Shapes.str(coordinates(index, shape)) : "";
        StringBuilder message = new StringBuilder(op).append(": ").append(what).append(" has ")
                .append(value).append(" at index ").append(index).append(element).append(detail);
        if (origin != null) {
            List<String> shapes = new ArrayList<>();
            for (int[] s : origin.inputShapes()) {
                shapes.add(Shapes.str(s));
            }
            message.append(" (").append(shapes.size() == 1 ? "input " : "inputs ")
                    .append(String.join(", ", shapes)).append(')');
        }
        message.append("; the operation was created at ").append(origin == null
                ? "an unknown place (it was recorded with anomaly mode off)" : where(origin.createdAt()));
        return new AnomalyException(message.toString(), op, stage, index, value,
                origin == null ? null : origin.createdAt());
    }

    private static String where(StackTraceElement frame) {
        if (frame == null) {
            return "an unknown place (no caller outside Adjoint was on the stack)";
        }
        String file = frame.getFileName() == null ? "unknown source" : frame.getFileName()
                + (frame.getLineNumber() >= 0 ? ":" + frame.getLineNumber() : "");
        return file + " (" + frame.getClassName() + "." + frame.getMethodName() + ")";
    }

    private static int[] coordinates(long index, int[] shape) {
        int[] at = new int[shape.length];
        long rest = index;
        for (int axis = shape.length - 1; axis >= 0; axis--) {
            at[axis] = (int) (rest % shape[axis]);
            rest /= shape[axis];
        }
        return at;
    }

    /**
     * The row-major index of the first element that is NaN or infinite, or -1.
     *
     * <p>The test runs on the tensor's backend, so that a device tensor is not copied to the
     * host unless it fails: {@code sum(x · 0)} is NaN exactly when some element is NaN or
     * infinite, and can neither overflow nor cancel. Only then are the values downloaded to
     * find the first one.
     */
    private static long firstNonFinite(Tensor t) {
        long size = t.size();
        if (size == 0) {
            return -1;
        }
        Backend backend = TensorImpl.of(t).backend();
        Buffer zero = backend.upload(new float[] {0f});
        Buffer scaled = backend.allocate(size);
        Buffer sum = backend.allocate(1);
        float total;
        try {
            backend.binary(BinaryOp.MUL, Compute.buffer(t), FLAT, zero, BROADCAST, scaled, new int[] {(int) size});
            backend.sumTo(scaled, new int[] {(int) size}, sum, BROADCAST);
            total = backend.download(sum)[0];
        } finally {
            backend.release(scaled);
            backend.release(sum);
            backend.release(zero);
        }
        if (!Float.isNaN(total)) {
            return -1;
        }
        float[] values = backend.download(Compute.buffer(t));
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isLibrary(Class<?> type) {
        ClassLoader loader = type.getClassLoader();
        if (loader == null || loader == ClassLoader.getPlatformClassLoader()) {
            // The JDK's own frames (streams, reflection, the launcher) are never the creator.
            return true;
        }
        if (!ENGINE_PACKAGES.contains(type.getPackageName())
                && !type.getPackageName().startsWith("org.adjoint.internal.")) {
            return false;
        }
        // Tests and examples may share the engine's packages but not its jar or class folder.
        URL location = location(type);
        return ENGINE_LOCATION == null || location == null || ENGINE_LOCATION.equals(location);
    }

    private static URL location(Class<?> type) {
        CodeSource source = type.getProtectionDomain().getCodeSource();
        return source == null ? null : source.getLocation();
    }
}
