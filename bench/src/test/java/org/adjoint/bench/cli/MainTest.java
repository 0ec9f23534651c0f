package org.adjoint.bench.cli;

import static org.adjoint.bench.cli.MainRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

class MainTest {

    private static final Pattern EPOCH_LINE = Pattern.compile(
            "epoch (\\d+)/3  loss (\\d+\\.\\d+)  accuracy +(\\d+\\.\\d)%  \\d+\\.\\d+ ms/step");

    @Test
    void trainPrintsOneLinePerEpochAndTheLossFalls() {
        MainRun run = run("train", "--epochs", "3", "--samples", "128", "--batch", "16", "--backend", "cpu");

        assertEquals(Main.OK, run.exitCode(), run.err());
        List<String> lines = run.out().lines().toList();
        assertEquals(5, lines.size(), run.out());
        assertTrue(lines.getFirst().startsWith("training MLP 2-16-16-2 (tanh"), lines.getFirst());
        assertTrue(lines.getFirst().endsWith("backend cpu"), lines.getFirst());
        List<Double> losses = new ArrayList<>();
        for (int epoch = 1; epoch <= 3; epoch++) {
            Matcher m = EPOCH_LINE.matcher(lines.get(epoch));
            assertTrue(m.matches(), "epoch line: " + lines.get(epoch));
            assertEquals(epoch, Integer.parseInt(m.group(1)));
            losses.add(Double.parseDouble(m.group(2)));
        }
        assertTrue(losses.get(2) < losses.get(0), "loss should fall over 3 epochs: " + losses);
        // Chance level for two balanced classes is ln 2 = 0.693.
        assertTrue(losses.get(2) < 0.6, "loss after 3 epochs: " + losses);
        assertTrue(lines.get(4).startsWith("final accuracy "), lines.get(4));
        assertTrue(lines.get(4).contains("after 3 epochs, 24 steps"), lines.get(4));
        assertEquals("", run.err());
    }

    @Test
    void theSameSeedGivesTheSameLosses() {
        String first = run("train", "--epochs", "3", "--samples", "64", "--seed", "7", "--backend", "cpu").out();
        String second = run("train", "--epochs", "3", "--samples", "64", "--seed", "7", "--backend", "cpu").out();
        assertEquals(withoutTimes(first), withoutTimes(second));
    }

    private static String withoutTimes(String output) {
        return output.replaceAll("\\d+\\.\\d+ ms/step", "").replaceAll("total time .*", "");
    }

    @Test
    void unknownOptionIsRejectedByName() {
        MainRun run = run("train", "--epochs", "1", "--bogus", "3");

        assertEquals(Main.USAGE, run.exitCode());
        assertTrue(run.err().startsWith("adjoint train: unknown option '--bogus'"), run.err());
        assertTrue(run.err().contains("usage: adjoint train"), run.err());
        assertEquals("", run.out());
    }

    @Test
    void badValueIsRejectedWithTheOptionAndTheValue() {
        MainRun run = run("train", "--epochs=zero");

        assertEquals(Main.USAGE, run.exitCode());
        assertTrue(run.err().contains("--epochs") && run.err().contains("'zero'"), run.err());
    }

    @Test
    void unknownCommandIsRejectedByName() {
        MainRun run = run("fit");

        assertEquals(Main.USAGE, run.exitCode());
        assertTrue(run.err().startsWith("adjoint: unknown command 'fit'"), run.err());
        assertTrue(run.err().contains("usage: adjoint <command>"), run.err());
    }

    @Test
    void helpGoesToStandardOutput() {
        MainRun run = run("help");

        assertEquals(Main.OK, run.exitCode());
        assertTrue(run.out().contains("train"), run.out());
        assertEquals("", run.err());
    }
}
