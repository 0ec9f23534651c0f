package org.adjoint.bench.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * The README's sample {@code ./adjoint train} transcript is what the program prints: the
 * default run (all 30 epochs, a few seconds) is compared with the fenced block that holds a
 * line starting with {@code training MLP}, wherever that block is in the README, on every
 * field a run does not vary: both header lines, each epoch's train loss, test loss and test
 * accuracy, the final accuracy and loss, and the peak saved activations. Only the times
 * (ms/step, seconds, examples/s) are left out. The block may leave out epoch lines in its
 * middle with a line {@code ...}; epoch 1 and the summary must be there.
 */
class ReadmeTranscriptTest {

    private static final String FIRST_LINE = "training MLP";
    private static final String ELIDED = "...";

    @Test
    void theReadmeTrainTranscriptIsWhatTheDefaultRunPrints() throws IOException {
        List<String> shown = readmeTranscript();
        assertTrue(shown.size() >= 5, "the README's train transcript needs the two header lines, epoch 1 and the "
                + "two summary lines: " + shown);
        assertTrue(shown.get(2).startsWith("epoch  1/"), "the README's transcript shows epoch 1 after the header: "
                + shown.get(2));

        // --backend cpu: on a machine with a GPU the default would pick CUDA; the README shows the CPU.
        MainRun run = MainRun.run("train", "--backend", "cpu");
        assertEquals(Main.OK, run.exitCode(), run.err());
        List<String> printed = run.out().lines().toList();

        assertEquals(shown.get(0), printed.get(0), "header line 1");
        assertEquals(shown.get(1), printed.get(1), "header line 2");
        // Every other line shown is printed, in order (a shown epoch is the printed epoch of that number).
        int next = 2;
        for (String line : shown.subList(2, shown.size() - 2)) {
            if (line.equals(ELIDED)) {
                continue;
            }
            String expected = withoutTimes(line);
            while (next < printed.size() - 2 && !withoutTimes(printed.get(next)).startsWith(epochOf(expected))) {
                next++;
            }
            if (next == printed.size() - 2) {
                fail("the README shows '" + line + "', which the program does not print; it printed:\n" + run.out());
            }
            assertEquals(expected, withoutTimes(printed.get(next)), "README line '" + line + "'");
            next++;
        }
        assertEquals(withoutTimes(shown.get(shown.size() - 2)), withoutTimes(printed.get(printed.size() - 2)),
                "summary line 1");
        assertEquals(withoutTimes(shown.getLast()), withoutTimes(printed.getLast()), "summary line 2");
    }

    /** {@code epoch  7/30 } of an epoch line, so that a shown epoch is matched with the printed one. */
    private static String epochOf(String line) {
        int end = line.indexOf("  train loss");
        return end < 0 ? line : line.substring(0, end);
    }

    /** The line with its wall-clock figures replaced by {@code #}: they differ from run to run. */
    static String withoutTimes(String line) {
        return line.replaceAll("\\d[\\d,]*\\.\\d+ ms/step", "# ms/step")
                .replaceAll("ms/step  \\d+\\.\\d s$", "ms/step  # s")
                .replaceAll("[\\d,]+ examples/s", "# examples/s")
                .replaceAll("total \\d+\\.\\d s", "total # s");
    }

    /** The lines of the README's fenced block that holds the train transcript, from its first line on. */
    private static List<String> readmeTranscript() throws IOException {
        Path readme = readme();
        List<String> block = new ArrayList<>();
        boolean inBlock = false;
        for (String line : Files.readAllLines(readme)) {
            if (line.strip().startsWith("```")) {
                if (inBlock && !block.isEmpty()) {
                    return block;
                }
                inBlock = !inBlock;
                block.clear();
            } else if (inBlock && (!block.isEmpty() || line.startsWith(FIRST_LINE))) {
                block.add(line);
            }
        }
        throw new AssertionError(readme + " has no fenced block with a line starting with '" + FIRST_LINE + "'");
    }

    /** README.md of the repository: the first one found walking up from the working directory. */
    static Path readme() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("README.md");
            if (Files.isRegularFile(candidate) && Files.isRegularFile(dir.resolve("mvnw"))) {
                return candidate;
            }
        }
        throw new AssertionError("no README.md beside mvnw above " + Path.of("").toAbsolutePath());
    }
}
