package org.adjoint.bench.cli;

import static org.adjoint.bench.cli.MainRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code adjoint lm} on tiny models for a few iterations: output, JSON, checkpointing, files and errors. */
class LmCommandTest {

    /** A model and a run small enough for a test: one or two blocks of width 16, six iterations. */
    private static final String[] TINY = {"--embed", "16", "--heads", "2", "--context", "16", "--batch", "4",
            "--iters", "6", "--eval-interval", "3", "--eval-batches", "2", "--backend", "cpu"};

    @TempDir
    Path dir;

    private static String[] lm(String... more) {
        List<String> args = new ArrayList<>(List.of("lm"));
        args.addAll(List.of(TINY));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":(\"(?:[^\"\\\\]|\\\\.)*\"|[^,}\\]]+)").matcher(json);
        assertTrue(m.find(), name + " in " + json);
        return m.group(1);
    }

    @Test
    void lmPrintsTheHeaderTheEstimatesTheSummaryAndASample() {
        MainRun run = run(lm("--layers", "1", "--sample", "40"));
        assertEquals(Main.OK, run.exitCode(), run.err());
        List<String> lines = run.out().lines().toList();
        assertEquals("training GPT (1 layer, 2 heads, width 16, context 16), 4,608 parameters, on tiny Shakespeare: "
                + "1,003,854 training / 111,540 held-out characters, 65 distinct", lines.get(0));
        assertTrue(lines.get(1).startsWith("AdamW lr 0.001 (warm-up 5, cosine to 1.0E-4), weight decay 0.1, clip 1.0, "
                + "batch 4, 6 iterations, dropout 0.0, checkpoint none, seed 42, backend cpu ("), lines.get(1));
        for (int i = 0; i < 2; i++) {
            assertTrue(lines.get(2 + i).matches("iteration " + (3 * i + 3) + "/6  train loss \\d\\.\\d{4}  val loss "
                    + "\\d\\.\\d{4}  lr \\d\\.\\d\\de-0\\d  \\d+\\.\\d ms/iteration"), lines.get(2 + i));
        }
        Matcher val = Pattern.compile("validation loss (\\d\\.\\d{4}) nats/char over all 111,539 predicted held-out characters "
                + "after 6 iterations \\(last training estimate \\d\\.\\d{4}\\)").matcher(lines.get(4));
        assertTrue(val.matches(), lines.get(4));
        // Six tiny steps leave the loss near chance, ln 65 = 4.17, and not above it by much.
        assertTrue(Double.parseDouble(val.group(1)) < 4.4, lines.get(4));
        assertTrue(lines.get(5).matches("\\d+\\.\\d ms/iteration, peak saved activations [\\d.]+ (KiB|MiB) "
                + "\\(checkpoint none\\), total \\d+\\.\\d s, backend cpu \\(\\w+ kernels\\)"), lines.get(5));
        String header = "sample (40 characters, temperature 0.8, top-k 200, seed 42):\n";
        assertEquals(header, lines.get(6) + "\n");
        String printed = run.out().substring(run.out().indexOf(header) + header.length());
        assertEquals(42, printed.length(), "the prompt (a newline), 40 characters, a newline: [" + printed + "]");
        assertEquals("", run.err());
    }

    @Test
    void jsonPrintsExactlyOneObjectWithTheFigures() {
        MainRun run = run(lm("--json", "--sample", "10"));
        assertEquals(Main.OK, run.exitCode(), run.err());
        String json = run.out().strip();
        assertEquals(1, run.out().lines().count(), run.out());
        assertTrue(json.startsWith("{") && json.endsWith("}"), json);
        assertEquals("6", field(json, "iterations"));
        assertEquals("4", field(json, "layers"));
        long parameters = Long.parseLong(field(json, "parameters"));
        assertEquals(65 * 16 + 16 * 16 + 4 * (2 * 2 * 16 + 16 * 48 + 48 + 16 * 16 + 16 + 16 * 64 + 64 + 64 * 16 + 16)
                + 2 * 16, parameters);
        for (String name : List.of("trainLoss", "valLoss", "msPerIteration")) {
            double value = Double.parseDouble(field(json, name));
            assertTrue(value > 0 && Double.isFinite(value), name + " " + value);
        }
        assertTrue(Long.parseLong(field(json, "peakSavedBytes")) > 0, json);
        assertEquals(12, field(json, "sample").length(), "ten characters in quotes, escapes aside: " + json);
        assertEquals("\"none\"", field(json, "checkpoint"));
        assertEquals("0.0", field(json, "attentionDropout"));
        assertEquals("0.001", field(json, "learningRate"), "the float as given, not its double");
        assertEquals("", run.err());
    }

    @Test
    void checkpointingGivesTheSameLossesBitwiseWithLessMemory() {
        MainRun storeAll = run(lm("--json", "--dropout", "0.1", "--attention-dropout", "0.1", "--sample", "20"));
        MainRun sqrt = run(lm("--json", "--dropout", "0.1", "--attention-dropout", "0.1", "--sample", "20",
                "--checkpoint", "sqrt"));
        assertEquals(Main.OK, storeAll.exitCode(), storeAll.err());
        assertEquals(Main.OK, sqrt.exitCode(), sqrt.err());
        for (String name : List.of("trainLoss", "valLoss", "sample")) {
            assertEquals(field(storeAll.out(), name), field(sqrt.out(), name), name);
        }
        String curve = "\"curve\":";
        String a = storeAll.out().substring(storeAll.out().indexOf(curve)).replaceAll(",\"msPerIteration\":[^}]+", "");
        String b = sqrt.out().substring(sqrt.out().indexOf(curve)).replaceAll(",\"msPerIteration\":[^}]+", "");
        assertEquals(a, b);
        assertTrue(Long.parseLong(field(sqrt.out(), "peakSavedBytes")) < Long.parseLong(field(storeAll.out(),
                "peakSavedBytes")), sqrt.out() + "\n" + storeAll.out());
    }

    @Test
    void savedParametersLoadBackAndThePlotIsWritten() throws IOException {
        Path file = dir.resolve("gpt.safetensors");
        Path plot = dir.resolve("plots/lm.png");
        MainRun trained = run(lm("--layers", "1", "--json", "--sample", "0", "--save", file.toString(), "--plot",
                plot.toString()));
        assertEquals(Main.OK, trained.exitCode(), trained.err());
        assertTrue(Files.size(file) > 20_000);
        byte[] png = Files.readAllBytes(plot);
        assertEquals((byte) 0x89, png[0]);
        assertEquals("PNG", new String(png, 1, 3, java.nio.charset.StandardCharsets.US_ASCII));
        MainRun loaded = run("lm", "--layers", "1", "--embed", "16", "--heads", "2", "--context", "16", "--iters", "0",
                "--sample", "0", "--json", "--backend", "cpu", "--load", file.toString());
        assertEquals(Main.OK, loaded.exitCode(), loaded.err());
        assertEquals(field(trained.out(), "valLoss"), field(loaded.out(), "valLoss"));
        MainRun wrong = run("lm", "--layers", "2", "--embed", "16", "--heads", "2", "--context", "16", "--iters", "0",
                "--backend", "cpu", "--load", file.toString());
        assertEquals(Main.FAILED, wrong.exitCode());
        assertTrue(wrong.err().startsWith("adjoint lm: " + file + " does not fit GPT (2 layers, 2 heads, width 16, "
                + "context 16); pass the --layers, --heads, --embed and --context it was trained with. loadStateDict: "
                + "missing 'transformer.h.1.ln_1.weight'"), wrong.err());
    }

    @Test
    void aRunThatDivergesStillPlotsTheEvaluationsSoFar() throws IOException {
        Path plot = dir.resolve("diverged.png");
        MainRun run = run(lm("--iters", "40", "--eval-interval", "1", "--lr", "1e30", "--grad-clip", "0", "--sample",
                "0", "--quiet", "--plot", plot.toString()));
        assertEquals(Main.FAILED, run.exitCode(), run.err());
        assertTrue(run.err().matches("(?s)adjoint lm: the loss became .* at iteration \\d+; lower the learning rate"
                + ".*; the curves of the \\d+ evaluations? so far are in " + Pattern.quote(plot.toString()) + ".*"),
                run.err());
        assertTrue(Files.size(plot) > 0, "the plot of the evaluations before the loss diverged");
    }

    @Test
    void thePlotMayNotReplaceTheParametersSavedOrLoaded() throws IOException {
        Path file = dir.resolve("gpt.safetensors");
        assertUsage("options --plot and --save name the same file, " + file + ": the plot would replace the parameters",
                lm("--save", file.toString(), "--plot", file.toString()));
        Files.writeString(file, "parameters");
        Path sameFile = dir.resolve(".").resolve("gpt.safetensors");
        assertUsage("options --plot and --load name the same file, " + sameFile
                + ": the plot would replace the parameters", lm("--load", file.toString(), "--plot", sameFile.toString()));
        assertEquals("parameters", Files.readString(file), "nothing was written");
        // A file not written yet, named through a link to its folder.
        Path out = Files.createDirectory(dir.resolve("out"));
        Path alias = Files.createSymbolicLink(dir.resolve("alias"), out);
        assertUsage("options --plot and --save name the same file, " + alias.resolve("m.st")
                + ": the plot would replace the parameters", lm("--save", out.resolve("m.st").toString(), "--plot",
                alias.resolve("m.st").toString()));
    }

    private static void assertUsage(String message, String... args) {
        MainRun run = run(args);
        assertEquals(Main.USAGE, run.exitCode(), run.out() + run.err());
        assertTrue(run.err().startsWith("adjoint lm: " + message + "\nusage: adjoint lm [options]"), run.err());
        assertEquals("", run.out());
    }

    @Test
    void badCommandLinesAreUsageErrors() {
        assertUsage("option --heads 3 does not divide --embed 128 (each head gets embed/heads dimensions)", "lm",
                "--heads", "3");
        assertUsage("option --iters needs an integer >= 0, got '-1'", "lm", "--iters", "-1");
        assertUsage("option --warmup 10 needs fewer iterations than --iters 5", "lm", "--iters", "5", "--warmup", "10");
        assertUsage("option --dropout needs a number in [0.0, 1.0), got '1'", "lm", "--dropout", "1");
        assertUsage("option --attention-dropout needs a number in [0.0, 1.0), got '1'", "lm", "--attention-dropout",
                "1");
        assertUsage("option --min-lr 0.01 is above --lr 0.001", "lm", "--min-lr", "0.01");
        assertUsage("unknown option '--epochs'", "lm", "--epochs", "3");
        assertUsage("option --checkpoint: checkpoint policy 'often' is not one of none, every:K, sqrt, binomial:C, "
                + "budget:BYTES", "lm", "--checkpoint", "often");
        assertUsage("options --batch 65536 and --context 65536 make a batch of more than 2147483639 tokens", "lm",
                "--batch", "65536", "--context", "65536");
        Path missing = dir.resolve("no").resolve("such.safetensors");
        assertUsage("option --save " + missing + ": the folder " + missing.getParent() + " does not exist", "lm",
                "--save", missing.toString());
        assertUsage("option --save '" + dir + "' is a folder; it needs a file name", "lm", "--save", dir.toString());
        Path file = dir.resolve("notes.txt");
        try {
            Files.writeString(file, "a file, not a folder");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Path under = file.resolve("more").resolve("loss.png");
        assertUsage("option --plot " + under + ": " + file + " is not a folder", "lm", "--plot", under.toString());
        Path absent = dir.resolve("absent.safetensors");
        assertUsage("option --load " + absent + ": no such file", "lm", "--load", absent.toString());
        assertUsage("option --save needs a value, got the option '--quiet' (write --save=--quiet for a value that "
                + "starts with --)", "lm", "--save", "--quiet");
        // Only the data can tell: still the command line's fault, found before any training.
        assertUsage("option --context 111540 does not fit the 111540 held-out characters", "lm", "--context",
                "111540");
        MainRun help = run("lm", "--help");
        assertEquals(Main.OK, help.exitCode());
        assertTrue(help.out().startsWith("usage: adjoint lm [options]"), help.out());
    }

    @Test
    void anOptionsValueThatLooksLikeHelpIsAValue() {
        // "-h" after --prompt is the prompt, not a request for help.
        MainRun run = run(lm("--iters", "0", "--sample", "3", "--prompt", "-h"));
        assertEquals(Main.OK, run.exitCode(), run.err());
        assertTrue(!run.out().contains("usage:"), run.out());
        assertEquals("-h", LmCommand.parse(List.of("--prompt", "-h")).prompt());
    }

    @Test
    void aPromptOutsideTheVocabularyFailsClearly() {
        assertUsage("option --prompt: the character '\u00e9' (U+00E9) is not in the tiny Shakespeare vocabulary",
                lm("--prompt", "caf\u00e9"));
    }

    @Test
    void theCorpusSplitsNinetyTenWithSixtyFiveCharacters() {
        TextData data = TextData.shakespeare();
        assertEquals(65, data.vocabularySize());
        assertEquals(1_003_854, data.train().length);
        assertEquals(111_540, data.validation().length);
        assertEquals("First Citizen:", data.decode(java.util.Arrays.copyOf(data.train(), 14)));
        TextData.Windows w = TextData.windows(data.train(), 3, 5, new java.util.SplittableRandom(1));
        for (int b = 0; b < 3; b++) {
            for (int t = 0; t < 4; t++) {
                assertEquals(w.inputs()[b * 5 + t + 1], w.targets()[b * 5 + t], "targets are the inputs shifted by one");
            }
        }
        assertEquals(java.util.Arrays.toString(w.inputs()), java.util.Arrays.toString(TextData.windows(data.train(), 3,
                5, new java.util.SplittableRandom(1)).inputs()));
    }
}
