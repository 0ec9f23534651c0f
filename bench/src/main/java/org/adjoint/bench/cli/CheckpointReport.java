package org.adjoint.bench.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.adjoint.bench.cli.CheckpointCommand.Options;
import org.adjoint.bench.cli.CheckpointCommand.PolicyRun;
import org.adjoint.bench.cli.CheckpointCommand.Result;

/** How {@link CheckpointCommand} prints its result: one JSON object, or a report for a reader. */
final class CheckpointReport {

    private CheckpointReport() {
    }

    /**
     * The result as one JSON object, one field per line: the fields of the command-line
     * contract first, then {@code seed}, {@code backend}, {@code plannedPeakBytes},
     * {@code maxAbsInputGradDiff}, the timing method and every timed step.
     *
     * @param result the figures
     * @return the JSON text, without a final line break
     */
    static String json(Result result) {
        Options o = result.options();
        PolicyRun p = result.checkpointed();
        PolicyRun s = result.storeAll();
        List<String> fields = List.of(
                field("layers", Long.toString(o.layers())),
                field("width", Long.toString(o.width())),
                field("batch", Long.toString(o.batch())),
                field("policy", jsonString(o.policy())),
                field("slots", Long.toString(p.slots())),
                field("layerForwardCalls", Long.toString(p.layerForwardCalls())),
                field("peakSavedBytes", Long.toString(p.peakSavedBytes())),
                field("storeAllPeakSavedBytes", Long.toString(s.peakSavedBytes())),
                field("storeAllLayerForwardCalls", Long.toString(s.layerForwardCalls())),
                field("maxAbsGradDiff", jsonNumber(result.maxAbsGradDiff())),
                field("stepMillis", millis(p.stepMillis())),
                field("storeAllStepMillis", millis(s.stepMillis())),
                field("seed", Long.toString(o.seed())),
                field("backend", jsonString(result.backend())),
                field("plannedPeakBytes", Long.toString(p.plannedPeakBytes())),
                field("maxAbsInputGradDiff", jsonNumber(result.maxAbsInputGradDiff())),
                field("timing", jsonString("median of " + steps(o.runs(), "timed") + " after "
                        + steps(o.warmup(), "warm-up") + " of each policy, alternating")),
                field("stepMillisRuns", millisArray(p.runMillis())),
                field("storeAllStepMillisRuns", millisArray(s.runMillis())));
        return "{\n" + String.join(",\n", fields) + "\n}";
    }

    private static String field(String name, String value) {
        return "  \"" + name + "\": " + value;
    }

    private static String millis(double value) {
        return String.format(Locale.ROOT, "%.3f", value);
    }

    private static String millisArray(List<Double> values) {
        return values.stream().map(CheckpointReport::millis).toList().toString();
    }

    /** JSON has no infinity or NaN: a difference that is not finite is written as null. */
    static String jsonNumber(double value) {
        return Double.isFinite(value) ? Double.toString(value) : "null";
    }

    /** A float as written on the command line: 0.001 rather than its double, 0.0010000000474974513. */
    static String jsonNumber(float value) {
        return Float.isFinite(value) ? Float.toString(value) : "null";
    }

    static String jsonString(String text) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    /**
     * The result as a report for a reader: a table of both policies, the ratios, the
     * gradient comparison and every timed step.
     *
     * @param result the figures
     * @param out    where it goes
     */
    static void print(Result result, PrintStream out) {
        Options o = result.options();
        PolicyRun p = result.checkpointed();
        PolicyRun s = result.storeAll();
        out.printf(Locale.ROOT, "checkpointed chain: %d layers h -> tanh(h·W + b), width %d, batch %d, seed %d, "
                + "backend %s%n", o.layers(), o.width(), o.batch(), o.seed(), result.backend());
        out.printf(Locale.ROOT, "step time: median of %s after %s of each policy%n%n", steps(o.runs(), "timed"),
                steps(o.warmup(), "warm-up"));
        String format = "%-18s %6s %14s %22s %12s%n";
        out.printf(Locale.ROOT, format, "policy", "slots", "forward calls", "peak saved bytes", "step time");
        for (PolicyRun run : List.of(p, s)) {
            out.printf(Locale.ROOT, format, run == s ? "none (store all)" : o.policy(), run.slots(),
                    run.layerForwardCalls(), String.format(Locale.ROOT, "%d (%.2f MiB)", run.peakSavedBytes(),
                            run.peakSavedBytes() / 1048576.0),
                    String.format(Locale.ROOT, "%.1f ms", run.stepMillis()));
        }
        out.printf(Locale.ROOT, "%n%s against none: step time %.2fx, peak saved bytes %.3fx, layer forward calls "
                        + "%.2fx%n", o.policy(), p.stepMillis() / s.stepMillis(),
                (double) p.peakSavedBytes() / s.peakSavedBytes(),
                (double) p.layerForwardCalls() / s.layerForwardCalls());
        out.printf(Locale.ROOT, "largest gradient difference against none: %s over %d parameter tensors, %s for the "
                        + "input%s%n", describe(result.maxAbsGradDiff()), result.parameterTensors(),
                describe(result.maxAbsInputGradDiff()),
                result.maxAbsGradDiff() == 0 && result.maxAbsInputGradDiff() == 0 ? " (bitwise identical)" : "");
        out.printf(Locale.ROOT, "timed steps (ms): %s %s; none %s%n", o.policy(), format(p.runMillis()),
                format(s.runMillis()));
    }

    private static String steps(int count, String kind) {
        return count + " " + kind + (count == 1 ? " step" : " steps");
    }

    private static String describe(double diff) {
        return Double.isFinite(diff) ? (diff == 0 ? "0" : Double.toString(diff)) : "not finite (NaN in one only)";
    }

    private static String format(List<Double> millis) {
        return Arrays.toString(millis.stream().mapToDouble(Double::doubleValue)
                .mapToObj(m -> String.format(Locale.ROOT, "%.1f", m)).toArray());
    }
}
