package org.adjoint.bench.cli;

import static org.adjoint.bench.cli.MainRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.adjoint.checkpoint.Revolve;
import org.junit.jupiter.api.Test;

class CheckpointCommandTest {

    /** The value of a numeric field of the JSON object, as text. */
    private static String number(String json, String field) {
        Matcher m = Pattern.compile("\"" + field + "\": (-?[0-9][0-9.eE+-]*)[,\\n]").matcher(json);
        assertTrue(m.find(), "no numeric field " + field + " in " + json);
        String value = m.group(1);
        assertTrue(!m.find(), "field " + field + " appears twice in " + json);
        return value;
    }

    @Test
    void jsonReportsRevolvesForwardCallsAndIdenticalGradients() {
        MainRun run = run("checkpoint", "--layers", "8", "--width", "16", "--batch", "4", "--policy", "binomial:2",
                "--json", "--backend", "cpu");

        assertEquals(Main.OK, run.exitCode(), run.err());
        String json = run.out().strip();
        assertTrue(json.startsWith("{") && json.endsWith("}"), json);
        assertEquals(1, json.chars().filter(c -> c == '{').count(), "one object, nothing nested: " + json);
        assertTrue(json.contains("\"policy\": \"binomial:2\""), json);
        assertEquals(8, Long.parseLong(number(json, "layers")));
        assertEquals(16, Long.parseLong(number(json, "width")));
        assertEquals(4, Long.parseLong(number(json, "batch")));
        assertEquals(2, Long.parseLong(number(json, "slots")));
        assertEquals(Revolve.forwardCalls(8, 2), Long.parseLong(number(json, "layerForwardCalls")));
        assertEquals(8, Long.parseLong(number(json, "storeAllLayerForwardCalls")));
        assertEquals(0.0, Double.parseDouble(number(json, "maxAbsGradDiff")), "gradients are bitwise identical");
        long peak = Long.parseLong(number(json, "peakSavedBytes"));
        long storeAllPeak = Long.parseLong(number(json, "storeAllPeakSavedBytes"));
        assertTrue(0 < peak && peak < storeAllPeak, peak + " against " + storeAllPeak);
        assertTrue(Double.parseDouble(number(json, "stepMillis")) > 0, json);
        assertTrue(Double.parseDouble(number(json, "storeAllStepMillis")) > 0, json);
        assertEquals("", run.err());
    }

    @Test
    void theReportNamesBothPolicies() {
        MainRun run = run("checkpoint", "--layers", "5", "--width", "8", "--batch", "3", "--policy", "sqrt",
                "--warmup", "0", "--runs", "1", "--backend", "cpu");

        assertEquals(Main.OK, run.exitCode(), run.err());
        assertTrue(run.out().startsWith("checkpointed chain: 5 layers"), run.out());
        assertTrue(run.out().contains("none (store all)"), run.out());
        assertTrue(run.out().contains("(bitwise identical)"), run.out());
    }

    @Test
    void aBadPolicyIsRejectedByName() {
        MainRun run = run("checkpoint", "--layers", "8", "--policy", "binomial:many", "--json");

        assertEquals(Main.USAGE, run.exitCode());
        assertTrue(run.err().startsWith("adjoint checkpoint: option --policy: checkpoint policy 'binomial:many'"),
                run.err());
        assertTrue(run.err().contains("usage: adjoint checkpoint"), run.err());
        assertEquals("", run.out());
    }

    @Test
    void thePolicyIsReportedAsTheLibrarySpellsIt() {
        assertEquals("sqrt", CheckpointCommand.parse(java.util.List.of("--policy", " SQRT")).policy());
        assertEquals("binomial:2", CheckpointCommand.parse(java.util.List.of("--policy", "Binomial:2")).policy());
    }

    @Test
    void aBudgetTooSmallForOneTapeIsACommandLineError() {
        MainRun run = run("checkpoint", "--width", "16", "--batch", "4", "--policy", "budget:100");

        assertEquals(Main.USAGE, run.exitCode());
        assertTrue(run.err().contains("--policy 'budget:100'") && run.err().contains("cannot hold"), run.err());
    }

    @Test
    void tensorsLargerThanABufferAreACommandLineError() {
        // 2,147,483,640 elements: within an int, beyond what one buffer holds (Integer.MAX_VALUE - 8).
        MainRun run = run("checkpoint", "--width", "1", "--batch", "2147483640");

        assertEquals(Main.USAGE, run.exitCode());
        assertTrue(run.err().startsWith("adjoint checkpoint: options --width 1 and --batch 2147483640 make tensors of "
                + "more than 2147483639 elements"), run.err());
    }

    @Test
    void aBadValueIsRejectedWithTheOptionAndTheValue() {
        MainRun run = run("checkpoint", "--layers=0");

        assertEquals(Main.USAGE, run.exitCode());
        assertTrue(run.err().contains("--layers") && run.err().contains("'0'"), run.err());
    }
}
