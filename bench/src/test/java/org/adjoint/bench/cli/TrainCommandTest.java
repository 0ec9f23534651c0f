package org.adjoint.bench.cli;

import static org.adjoint.bench.cli.MainRun.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.adjoint.Tensor;
import org.adjoint.checkpoint.CheckpointMeter;
import org.adjoint.checkpoint.CheckpointPolicy;
import org.adjoint.io.SafeTensors;
import org.adjoint.nn.Losses;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {

    private static final Pattern EPOCH_LINE = Pattern.compile("epoch (\\d+)/3  train loss (\\d+\\.\\d+)  test loss "
            + "(\\d+\\.\\d+)  test accuracy +(\\d+\\.\\d+)%  \\d+\\.\\d+ ms/step  \\d+\\.\\d s");

    @TempDir
    Path dir;

    @Test
    void trainPrintsTheHeaderOneLinePerEpochAndTheSummary() {
        MainRun run = run("train", "--epochs", "3", "--model", "32", "--backend", "cpu");

        assertEquals(Main.OK, run.exitCode(), run.err());
        List<String> lines = run.out().lines().toList();
        assertEquals(7, lines.size(), run.out());
        assertEquals("training MLP 64-32-10 (relu, 2,410 parameters) on digits 8x8 (bundled, UCI): 1,438 train / 359 test",
                lines.get(0));
        assertTrue(lines.get(1).startsWith("adam lr 0.001, batch 32, 3 epochs, checkpoint none, seed 42, backend cpu ("),
                lines.get(1));
        double first = 0;
        double last = 0;
        for (int epoch = 1; epoch <= 3; epoch++) {
            Matcher m = EPOCH_LINE.matcher(lines.get(epoch + 1));
            assertTrue(m.matches(), "epoch line: " + lines.get(epoch + 1));
            double loss = Double.parseDouble(m.group(2));
            first = epoch == 1 ? loss : first;
            last = loss;
        }
        // Chance level for ten classes is ln 10 = 2.30.
        assertTrue(last < first && last < 1.6, "training loss over 3 epochs: " + first + " then " + last);
        assertTrue(lines.get(5).matches("test accuracy \\d+\\.\\d\\d% \\(\\d+ of 359\\), test loss \\d\\.\\d+ after 3 epochs "
                + "\\(135 steps\\)"), lines.get(5));
        assertTrue(lines.get(6).matches("\\d+\\.\\d+ ms/step, [\\d,]+ examples/s, peak saved activations [\\d.]+ KiB "
                + "\\(checkpoint none\\), total \\d+\\.\\d s, backend cpu \\(\\w+ kernels\\)"), lines.get(6));
        assertEquals("", run.err());
    }

    @Test
    void theDefaultRunReachesNinetyFivePercentOnDigits() {
        TrainCommand.Result result = TrainCommand.train(TrainCommand.Options.defaults(), discard(), Progress.Mode.QUIET);
        assertEquals(30, result.epochs().size());
        assertTrue(result.testAccuracy() >= 0.95, "test accuracy " + result.testAccuracy());
    }

    @Test
    void theSameSeedGivesTheSameRunBitwise() throws IOException {
        Path firstFile = dir.resolve("first.safetensors");
        Path secondFile = dir.resolve("second.safetensors");
        MainRun first = run("train", "--epochs", "2", "--model", "16", "--seed", "7", "--backend", "cpu", "--dropout",
                "0.1", "--save", firstFile.toString());
        MainRun second = run("train", "--epochs", "2", "--model", "16", "--seed", "7", "--backend", "cpu", "--dropout",
                "0.1", "--save", secondFile.toString());
        assertEquals(Main.OK, first.exitCode(), first.err());
        assertEquals(Main.OK, second.exitCode(), second.err());
        assertEquals(withoutTimes(first.out()).replace(firstFile.toString(), "FILE"),
                withoutTimes(second.out()).replace(secondFile.toString(), "FILE"));
        // The parameters after training, every bit of them (and the metadata).
        assertArrayEquals(Files.readAllBytes(firstFile), Files.readAllBytes(secondFile));

        // The losses as computed, not as printed to four decimals.
        TrainCommand.Options options = TrainCommand.parse(List.of("--epochs", "2", "--model", "16", "--seed", "7",
                "--dropout", "0.1"));
        TrainCommand.Result one = TrainCommand.train(options, discard(), Progress.Mode.QUIET);
        TrainCommand.Result other = TrainCommand.train(options, discard(), Progress.Mode.QUIET);
        for (int e = 0; e < 2; e++) {
            TrainCommand.EpochResult a = one.epochs().get(e);
            TrainCommand.EpochResult b = other.epochs().get(e);
            assertEquals(Double.doubleToRawLongBits(a.trainLoss()), Double.doubleToRawLongBits(b.trainLoss()),
                    "train loss of epoch " + (e + 1) + ": " + a.trainLoss() + " and " + b.trainLoss());
            assertEquals(Double.doubleToRawLongBits(a.testLoss()), Double.doubleToRawLongBits(b.testLoss()),
                    "test loss of epoch " + (e + 1) + ": " + a.testLoss() + " and " + b.testLoss());
            assertEquals(a.testAccuracy(), b.testAccuracy(), 0.0);
        }
    }

    private static String withoutTimes(String output) {
        return output.replaceAll("\\d+\\.\\d+ ms/step.*", "");
    }

    @Test
    void checkpointingGivesTheSameCurveBitwiseWithLessSavedMemory() {
        TrainCommand.Options options = TrainCommand.parse(List.of("--model", "48,48,48,48,48,48", "--epochs", "2",
                "--dropout", "0.1", "--activation", "tanh"));
        TrainCommand.Result stored = TrainCommand.train(options, discard(), Progress.Mode.QUIET);
        TrainCommand.Result checkpointed = TrainCommand.train(options.withCheckpoint(CheckpointPolicy.sqrt()), discard(),
                Progress.Mode.QUIET);
        for (int e = 0; e < 2; e++) {
            assertEquals(stored.epochs().get(e).trainLoss(), checkpointed.epochs().get(e).trainLoss(), 0.0);
            assertEquals(stored.epochs().get(e).testLoss(), checkpointed.epochs().get(e).testLoss(), 0.0);
        }
        assertTrue(checkpointed.peakSavedBytes() < stored.peakSavedBytes(),
                checkpointed.peakSavedBytes() + " against " + stored.peakSavedBytes());
    }

    /**
     * The meter counts what the tapes hold: under {@code none} every layer's tape is live at the
     * end of the forward pass, holding the chain input and every hidden output (a ReLU layer
     * saves its input and its output; the output layer saves only its input, the last hidden
     * output, and the logits are not saved). Under {@code sqrt} a chain of n layers runs in
     * segments of ceil(sqrt(n)) layers; while one segment is taped again, its stored input
     * and its outputs are held, and every segment but the last runs forward twice.
     */
    @Test
    void peakSavedBytesAreTheActivationsTheTapesHold() {
        int batch = 32;
        // The default 64-128-64-10: segments of 2 under sqrt, so re-taping the first segment holds
        // the input and both hidden outputs, exactly what none holds. Nothing to save.
        long all = Float.BYTES * batch * (64 + 128 + 64);
        assertArrayEquals(new long[] {all, 3}, step(List.of(128, 64), CheckpointPolicy.none(), batch));
        assertArrayEquals(new long[] {all, 3 + 2}, step(List.of(128, 64), CheckpointPolicy.sqrt(), batch));
        // Eight hidden layers of 128 and the output layer: 9 layers, segments of 3 under sqrt. At
        // the end of the forward pass sqrt holds the inputs of segments 2 and 3 and the two
        // hidden outputs taped in segment 3; re-taping segment 2 holds its input and 3 outputs.
        List<Integer> deep = List.of(128, 128, 128, 128, 128, 128, 128, 128);
        assertArrayEquals(new long[] {Float.BYTES * batch * (64 + 8 * 128), 9},
                step(deep, CheckpointPolicy.none(), batch));
        assertArrayEquals(new long[] {Float.BYTES * batch * (4 * 128), 9 + 6}, step(deep, CheckpointPolicy.sqrt(), batch));
    }

    /** One training step's peak saved activation bytes and layer forward calls. */
    private static long[] step(List<Integer> hidden, CheckpointPolicy policy, int batch) {
        var model = TrainCommand.model(64, hidden, 10, TrainCommand.HiddenActivation.RELU, 0f, 42);
        CheckpointMeter meter = new CheckpointMeter();
        Tensor features = Tensor.randn(1, batch, 64);
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = i % 10;
        }
        Losses.crossEntropy(model.apply(features, policy, meter), labels).backward();
        assertEquals(0, meter.savedBytes(), "everything saved is handed back after the backward pass");
        return new long[] {meter.peakSavedBytes(), meter.layerForwardCalls()};
    }

    @Test
    void saveThenLoadReproducesTheModel() throws IOException {
        Path file = dir.resolve("model.safetensors");
        MainRun trained = run("train", "--epochs", "2", "--model", "24", "--save", file.toString(), "--backend", "cpu");
        assertEquals(Main.OK, trained.exitCode(), trained.err());
        assertTrue(trained.out().contains("parameters saved to " + file), trained.out());
        SafeTensors.Contents contents = SafeTensors.read(file);
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias"), List.copyOf(contents.tensors().keySet()));
        assertArrayEquals(new int[] {64, 24}, contents.tensors().get("0.weight").shape());
        assertEquals("mlp 64-24-10 relu", contents.metadata().get("model"));

        MainRun loaded = run("train", "--epochs", "0", "--model", "24", "--load", file.toString(), "--backend", "cpu");
        assertEquals(Main.OK, loaded.exitCode(), loaded.err());
        assertEquals(summary(trained.out()), summary(loaded.out()));

        MainRun mismatched = run("train", "--epochs", "0", "--model", "20", "--load", file.toString());
        assertEquals(Main.FAILED, mismatched.exitCode());
        assertTrue(mismatched.err().startsWith("adjoint train: " + file + " does not fit MLP 64-20-10 (relu); pass the "
                + "--model, --activation and --dropout it was trained with. loadStateDict: '0.weight' has shape "
                + "[64, 24], the module needs [64, 20]"), mismatched.err());
    }

    private static String summary(String output) {
        return output.lines().filter(line -> line.startsWith("test accuracy")).findFirst().orElseThrow()
                .replaceAll(" after .*", "");
    }

    @Test
    void plotWritesAPng() throws IOException {
        Path png = dir.resolve("curves/loss.png");
        MainRun run = run("train", "--epochs", "2", "--model", "16", "--plot", png.toString(), "--quiet");
        assertEquals(Main.OK, run.exitCode(), run.err());
        byte[] bytes = Files.readAllBytes(png);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(bytes, 4));
        assertTrue(bytes.length > 10_000, "a chart, not an empty image: " + bytes.length + " bytes");
        assertEquals(3, run.out().lines().count(), "quiet prints only the summary: " + run.out());
    }

    @Test
    void anMnistFormatDirectoryTrains() throws IOException {
        SplittableRandom random = new SplittableRandom(3);
        MnistFiles.write(dir, "train", 120, random);
        MnistFiles.write(dir, "t10k", 40, random);
        MainRun run = run("train", "--data", "fashion-mnist", "--data-dir", dir.toString(), "--epochs", "3",
                "--model", "16", "--batch", "10", "--optimizer", "sgd", "--schedule", "cosine");
        assertEquals(Main.OK, run.exitCode(), run.err());
        assertTrue(run.out().contains("on fashion-mnist (" + dir + "): 120 train / 40 test"), run.out());
        assertTrue(run.out().contains("sgd lr 0.1 (cosine), batch 10, 3 epochs"), run.out());
        // Images are their class plus noise, so a linear separation exists and three epochs find it.
        assertTrue(run.out().contains("test accuracy 100.00% (40 of 40)"), run.out());
    }

    @Test
    void theConvolutionalNetworksTrainOnTheDigits() {
        MainRun cnn = run("train", "--model", "cnn", "--epochs", "2", "--batch", "64");
        assertEquals(Main.OK, cnn.exitCode(), cnn.err());
        assertTrue(cnn.out().contains("training CNN on 8x8 images (relu, 53,002 parameters) on digits"), cnn.out());
        MainRun resnet = run("train", "--model", "resnet", "--epochs", "1", "--batch", "128", "--checkpoint", "sqrt");
        assertEquals(Main.OK, resnet.exitCode(), resnet.err());
        assertTrue(resnet.out().contains("training ResNet on 8x8 images"), resnet.out());
        assertTrue(resnet.out().contains("checkpoint sqrt"), resnet.out());
        TrainCommand.Options options = TrainCommand.parse(List.of("--model", "resnet"));
        assertEquals("resnet", options.network());
        assertEquals(null, options.hidden());
        assertEquals("mlp", TrainCommand.parse(List.of("--model", "32,16")).network());
    }

    @Test
    void aMissingDataSetNamesTheInstallHint() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        MainRun run = run("train", "--data", "fashion-mnist", "--data-dir", empty.toString());
        assertEquals(Main.FAILED, run.exitCode());
        assertTrue(run.err().startsWith("adjoint train: fashion-mnist not found in " + empty
                + " (missing train-images-idx3-ubyte[.gz], "), run.err());
        assertTrue(run.err().contains("sudo apt-get install dataset-fashion-mnist"), run.err());
    }

    /** A --data-dir that is not a folder is a typing error: a usage error before any work. */
    @Test
    void aDataDirThatIsNoDirectoryIsAUsageError() {
        MainRun run = run("train", "--data", "fashion-mnist", "--data-dir", dir.resolve("absent").toString());
        assertEquals(Main.USAGE, run.exitCode());
        assertTrue(run.err().startsWith("adjoint train: option --data-dir " + dir.resolve("absent")
                + ": not a folder"), run.err());
    }

    @Test
    void aRunThatDivergesStillPlotsTheEpochsItFinished() throws IOException {
        Path data = Files.createDirectories(dir.resolve("diverging"));
        MnistFiles.write(data, "train", 30, new java.util.SplittableRandom(7));
        MnistFiles.write(data, "t10k", 9, new java.util.SplittableRandom(8));
        Path plot = dir.resolve("curves.png");
        // One step an epoch (the batch holds every example): the first is finite, the update then blows up.
        MainRun run = run("train", "--data", "fashion-mnist", "--data-dir", data.toString(), "--batch", "64",
                "--epochs", "3", "--optimizer", "sgd", "--lr", "1e30", "--plot", plot.toString(), "--quiet");
        assertEquals(Main.FAILED, run.exitCode(), run.err());
        assertTrue(run.err().contains("at epoch 2, step 1; lower the learning rate")
                && run.err().contains("; the curves of the 1 finished epoch are in " + plot), run.err());
        assertTrue(Files.size(plot) > 0, "the plot of epoch 1");
    }

    @Test
    void momentumWithoutSgdAndARunTooLongToCountAreUsageErrors() {
        MainRun momentum = run("train", "--momentum", "0.5");
        assertEquals(Main.USAGE, momentum.exitCode());
        assertTrue(momentum.err().startsWith("adjoint train: option --momentum is for --optimizer sgd; adam has no "
                + "momentum option"), momentum.err());
        assertEquals(Main.USAGE, run("train", "--optimizer", "adamw", "--momentum", "0.5").exitCode());
        MainRun steps = run("train", "--batch", "1", "--epochs", "1500000", "--schedule", "cosine", "--quiet");
        assertEquals(Main.USAGE, steps.exitCode());
        assertTrue(steps.err().startsWith("adjoint train: options --epochs 1500000 and --batch 1 make 2157000000 steps"
                + " on 1438 examples, more than 2147483647"), steps.err());
    }

    @Test
    void badOptionsAreUsageErrors() {
        MainRun optimizer = run("train", "--optimizer", "lbfgs");
        assertEquals(Main.USAGE, optimizer.exitCode());
        assertTrue(optimizer.err().startsWith("adjoint train: option --optimizer needs one of adam, adamw, sgd, got 'lbfgs'"),
                optimizer.err());
        MainRun trailing = run("train", "--model", "128,64,");
        assertEquals(Main.USAGE, trailing.exitCode());
        assertEquals("cnn", TrainCommand.parse(List.of("--model", "CNN")).network());
        MainRun model = run("train", "--model", "64,,8");
        assertEquals(Main.USAGE, model.exitCode());
        assertTrue(model.err().startsWith("adjoint train: option --model needs cnn, resnet or hidden widths like 256,128"),
                model.err());
        MainRun cnnActivation = run("train", "--model", "cnn", "--activation", "tanh");
        assertEquals(Main.USAGE, cnnActivation.exitCode());
        assertTrue(cnnActivation.err().startsWith("adjoint train: option --activation is for MLPs; --model cnn uses ReLU"),
                cnnActivation.err());
        MainRun resnetDropout = run("train", "--model", "resnet", "--dropout", "0.2");
        assertEquals(Main.USAGE, resnetDropout.exitCode());
        assertTrue(resnetDropout.err().startsWith("adjoint train: option --dropout is for --model mlp and cnn"),
                resnetDropout.err());
        MainRun policy = run("train", "--checkpoint", "most");
        assertEquals(Main.USAGE, policy.exitCode());
        assertTrue(policy.err().startsWith("adjoint train: option --checkpoint: "), policy.err());
        MainRun dataDir = run("train", "--data-dir", "/tmp");
        assertEquals(Main.USAGE, dataDir.exitCode());
        assertTrue(dataDir.err().startsWith("adjoint train: option --data-dir needs --data fashion-mnist"), dataDir.err());
        MainRun flag = run("train", "--quiet=yes");
        assertEquals(Main.USAGE, flag.exitCode());
        assertTrue(flag.err().startsWith("adjoint train: option --quiet takes no value, got '--quiet=yes'"), flag.err());
        MainRun evaluate = run("train", "--epochs", "0");
        assertEquals(Main.USAGE, evaluate.exitCode());
        assertTrue(evaluate.err().startsWith("adjoint train: option --epochs 0 only evaluates, and needs --load FILE"),
                evaluate.err());
        Path oblong = dir.resolve("oblong");
        try {
            Files.createDirectories(oblong);
            MnistFiles.write(oblong, "train", 30, new java.util.SplittableRandom(3), 3, 5);
            MnistFiles.write(oblong, "t10k", 9, new java.util.SplittableRandom(4), 3, 5);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        MainRun cnnOblong = run("train", "--data", "fashion-mnist", "--data-dir", oblong.toString(), "--model", "cnn");
        assertEquals(Main.USAGE, cnnOblong.exitCode(), cnnOblong.err());
        assertTrue(cnnOblong.err().startsWith("adjoint train: option --model cnn needs square images, but the data has "
                + "15 features per example"), cnnOblong.err());
        Path mixed = dir.resolve("mixed");
        try {
            Files.createDirectories(mixed);
            MnistFiles.write(mixed, "train", 30, new java.util.SplittableRandom(5));
            MnistFiles.write(mixed, "t10k", 9, new java.util.SplittableRandom(6), 3, 5);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        MainRun sizes = run("train", "--data", "fashion-mnist", "--data-dir", mixed.toString());
        assertEquals(Main.FAILED, sizes.exitCode(), sizes.err());
        assertTrue(sizes.err().contains("has 16 pixels per image but ") && sizes.err().contains(" has 15; the two sets "
                + "must have images of one size"), sizes.err());
        Path missing = dir.resolve("absent").resolve("mlp.safetensors");
        MainRun save = run("train", "--save", missing.toString());
        assertEquals(Main.USAGE, save.exitCode());
        assertTrue(save.err().startsWith("adjoint train: option --save " + missing + ": the folder "
                + missing.getParent() + " does not exist"), save.err());
    }

    @Test
    void theProgressBarRedrawsInPlaceAndClearsBeforeTheEpochLine() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        Progress progress = new Progress(out, Progress.Mode.BAR);
        progress.startEpoch(2, 5, 4);
        progress.step(1, 0.9);
        progress.step(4, 0.5);
        progress.endEpoch("epoch 2/5 done");
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.startsWith("\repoch 2/5 [======>                 ] 1/4  "), text);
        assertTrue(text.contains("\repoch 2/5 [========================] 4/4  "), text);
        assertTrue(text.contains("loss 0.5000"), text);
        assertTrue(text.endsWith("\repoch 2/5 done" + System.lineSeparator()), text);
        assertEquals("3m05s", Progress.duration(185));
        assertEquals("0.8s", Progress.duration(0.8));
    }

    private static PrintStream discard() {
        return new PrintStream(OutputStream.nullOutputStream());
    }
}
