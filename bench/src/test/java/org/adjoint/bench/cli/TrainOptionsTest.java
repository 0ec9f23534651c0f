package org.adjoint.bench.cli;

import static org.adjoint.bench.cli.MainRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every option that docs/training.md lists is accepted, reaches the run, and is in the help. */
class TrainOptionsTest {

    @TempDir
    Path dir;

    @Test
    void theHelpListsEveryDocumentedOption() {
        MainRun help = run("train", "--help");
        assertEquals(Main.OK, help.exitCode(), help.err());
        for (String option : List.of("--data", "--data-dir", "--model", "--activation", "--dropout", "--epochs", "--batch",
                "--optimizer", "--lr", "--momentum", "--weight-decay", "--schedule", "--checkpoint", "--seed", "--backend",
                "--plot", "--save", "--load", "--quiet")) {
            assertTrue(help.out().contains("  " + option + " "), option + " missing from:\n" + help.out());
        }
    }

    @Test
    void adamwWithGeluDropoutDecayAndTheStepSchedule() {
        MainRun run = run("train", "--epochs", "1", "--model", "16", "--activation", "gelu", "--dropout", "0.1",
                "--optimizer", "adamw", "--lr", "0.01", "--weight-decay", "0.05", "--schedule", "step", "--backend", "cpu");
        assertEquals(Main.OK, run.exitCode(), run.err());
        assertTrue(run.out().contains("training MLP 64-16-10 (gelu, dropout 0.1, "), run.out());
        assertTrue(run.out().contains("adamw lr 0.01 (step), batch 32, 1 epoch, "), run.out());
    }

    @Test
    void sgdWithMomentumAndTheSigmoid() {
        MainRun run = run("train", "--epochs", "1", "--model", "16", "--activation", "sigmoid", "--optimizer", "sgd",
                "--momentum", "0.5", "--backend", "cpu");
        assertEquals(Main.OK, run.exitCode(), run.err());
        assertTrue(run.out().contains("training MLP 64-16-10 (sigmoid, "), run.out());
        assertTrue(run.out().contains("sgd lr 0.1, batch 32, 1 epoch, "), run.out());
    }

    /** With no overrides, an MNIST-format directory gets the Fashion-MNIST defaults of the docs. */
    @Test
    void anMnistDirectoryTakesTheFashionMnistDefaults() throws IOException {
        SplittableRandom random = new SplittableRandom(5);
        MnistFiles.write(dir, "train", 130, random);
        MnistFiles.write(dir, "t10k", 30, random);
        MainRun run = run("train", "--data", "fashion-mnist", "--data-dir", dir.toString(), "--backend", "cpu");
        assertEquals(Main.OK, run.exitCode(), run.err());
        assertTrue(run.out().contains("training MLP 16-256-128-3 (relu, "), run.out());
        assertTrue(run.out().contains("adam lr 0.001, batch 64, 10 epochs, checkpoint none, seed 42, "), run.out());
        assertTrue(run.out().contains("after 10 epochs (30 steps)"), run.out());
    }
}
