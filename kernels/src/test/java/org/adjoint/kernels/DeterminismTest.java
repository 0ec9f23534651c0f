package org.adjoint.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * The vector kernels give the same bits whether they run interpreted or compiled by C2, so
 * that a training run is reproducible whatever the JIT compiled when. The Vector API's own
 * {@code EXP} and {@code LOG} fail this (an intrinsic when compiled, a Java fallback when
 * interpreted), which is why the provider does not use them.
 */
class DeterminismTest {

    /** Prints a hash of the transcendental functions' results over fixed inputs. */
    static final class Probe {

        public static void main(String[] args) {
            float[] x = inputs();
            float[] out = new float[x.length];
            long hash = 17;
            System.out.print("hash ");
            KernelProvider vector = VectorKernels.INSTANCE; // named("vector") refuses to run without C2
            for (ElementWise.Unary function : new ElementWise.Unary[] {ElementWise.Unary.EXP, ElementWise.Unary.LOG,
                    ElementWise.Unary.TANH, ElementWise.Unary.SIGMOID}) {
                // Several passes, so that a compiled JVM has compiled the loops by the last one.
                for (int pass = 0; pass < Integer.parseInt(args[0]); pass++) {
                    vector.unary(function, 0f, x, 0, out, 0, x.length);
                }
                for (float v : out) {
                    hash = hash * 31 + Float.floatToRawIntBits(v);
                }
                System.out.print(function + " " + hash + ", ");
            }
            vector.softmax(x, x.length / 64, 64, 1, false, out);
            for (float v : out) {
                hash = hash * 31 + Float.floatToRawIntBits(v);
            }
            System.out.println("softmax " + hash);
        }

        static float[] inputs() {
            SplittableRandom random = new SplittableRandom(5);
            float[] x = new float[4096];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextDouble(-20, 20);
            }
            return x;
        }
    }

    @Test
    void interpretedAndCompiledKernelsGiveTheSameBits() throws IOException, InterruptedException {
        String interpreted = runJava(List.of("-Xint"), 1);
        String compiled = runJava(List.of("-XX:-TieredCompilation", "-XX:CompileThreshold=100"), 300);
        assertTrue(interpreted.startsWith("hash "), interpreted);
        assertEquals(interpreted, compiled);
    }

    private static String runJava(List<String> options, int passes) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("--add-modules");
        command.add("jdk.incubator.vector");
        command.addAll(options);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Probe.class.getName());
        command.add(Integer.toString(passes));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the child JVM did not finish in 120 s: " + command);
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return output.lines().filter(line -> line.startsWith("hash ")).findFirst().orElse(output);
    }
}
