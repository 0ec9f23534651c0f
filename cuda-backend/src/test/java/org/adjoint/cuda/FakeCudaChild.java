package org.adjoint.cuda;

import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.adjoint.backend.UnaryOp;

/**
 * Runs in the child JVM of {@link FakeCuda#child}, where the fake libraries are on
 * {@code LD_LIBRARY_PATH}: one mode per run ({@code probe}, {@code compile}, {@code kernels},
 * {@code memory}, {@code suite}, and cuDNN's {@code conv}, {@code settle} and {@code cache}
 * in {@link FakeCudnnPrograms}), printing what the tests read.
 */
public final class FakeCudaChild {
    private FakeCudaChild() {
    }

    /**
     * Entry point of the child JVM.
     *
     * @param args the mode, then its arguments
     * @throws Throwable when a step fails unexpectedly
     */
    public static void main(String[] args) throws Throwable {
        if (args[0].equals("choose")) {
            // What Backends chooses by itself, the warnings of java.util.logging on standard error.
            try {
                System.out.println("chosen: " + org.adjoint.backend.Backends.current().name());
            } catch (IllegalStateException e) {
                System.out.println("failed: " + e.getMessage());
            }
            return;
        }
        CudaBackend cuda = new CudaBackend();
        switch (args[0]) {
            case "probe" -> {
                System.out.println("reason: " + cuda.unavailableReason().orElse("(available)"));
                if (cuda.unavailableReason().isEmpty()) {
                    System.out.println("convolution: " + cuda.convolutionPath());
                }
            }
            case "compile", "kernels" -> {
                if (args[0].equals("kernels")) {
                    showFineLog();
                }
                try {
                    cuda.unary(UnaryOp.NEG, 0, cuda.upload(new float[] {1}), cuda.allocate(1));
                    System.out.println("compiled");
                } catch (IllegalStateException e) {
                    System.out.println(e.getMessage());
                }
            }
            case "memory" -> memory(cuda);
            case "conv" -> FakeCudnnPrograms.convolutions(cuda);
            case "settle" -> FakeCudnnPrograms.settledAlgorithm(cuda);
            case "cache" -> FakeCudnnPrograms.descriptorCache(cuda);
            case "suite" -> {
                boolean passed = true;
                for (int i = 1; i < args.length; i++) {
                    System.out.println("== " + args[i]);
                    passed &= new SuiteRunner(Class.forName(args[i])).run();
                }
                System.exit(passed ? 0 : 1);
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    /** Strongly held: java.util.logging keeps loggers only weakly. */
    private static final Logger BACKEND_LOG = Logger.getLogger("org.adjoint.cuda.CudaBackend");

    private static void showFineLog() {
        ConsoleHandler handler = new ConsoleHandler();
        handler.setLevel(Level.FINE);
        BACKEND_LOG.setUseParentHandlers(false);
        BACKEND_LOG.addHandler(handler);
        BACKEND_LOG.setLevel(Level.FINE);
    }

    private static void memory(CudaBackend cuda) {
        int floats = 4 << 20;
        var first = cuda.allocate(floats);
        var second = cuda.allocate(floats);
        cuda.release(first);
        cuda.release(second);
        // 32 MiB cached; 48 MiB more only fits once the cache is given back.
        var big = cuda.allocate(12 << 20);
        System.out.println("retry: " + (cuda.memoryStats().bytesCached() == 0 ? "ok" : cuda.memoryStats()));
        try {
            cuda.allocate(16 << 20);
            System.out.println("oom: none");
        } catch (IllegalStateException e) {
            System.out.println("oom: " + e.getMessage());
        }
        cuda.release(big);
    }
}
