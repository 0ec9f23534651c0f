package org.adjoint.cuda;

import static org.adjoint.cuda.FakeCuda.child;
import static org.adjoint.cuda.FakeCuda.convolutionOf;
import static org.adjoint.cuda.FakeCuda.logLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.adjoint.cuda.FakeCuda.Result;
import org.adjoint.cuda.internal.ForeignCudnn;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * cuDNN over the fake driver and the fake {@code libcudnn.so.9} ({@link FakeCuda}): where it
 * is found and which builds are passed over, the log lines, the trial, the fallbacks to the
 * im2col path (counted, logged once, or errors under {@code require}), the algorithm and
 * workspace kept per shape, and the descriptor cache. The programs its child JVMs run are
 * {@link FakeCudnnPrograms}.
 */
class FakeCudnnTest {

    @RegisterExtension
    static final FakeCuda fake = new FakeCuda();

    @Test
    void theLogLineNamesTheConvolutionPathAndWhyNotCudnn() throws IOException, InterruptedException {
        String off = logLine(child(fake.cuda13(), Map.of(), "-Dadjoint.cuda.cudnn=false", "probe"));
        assertTrue(off.endsWith("; convolution: im2col + cuBLAS (cuDNN: off, -Dadjoint.cuda.cudnn=false)"), off);
        String missing = convolutionOf(child(fake.cuda12(), Map.of(), "probe"));
        assertTrue(missing.startsWith("im2col + cuBLAS (cuDNN: libcudnn.so.9 could not be loaded: not found by"
                + " the dynamic linker (LD_LIBRARY_PATH=" + fake.cuda12() + ") nor in ["), missing);
        // A cuDNN for CUDA 12 beside CUDA 12's cuBLAS.
        String elsewhere = convolutionOf(child(fake.cuda12(), Map.of("FAKE_CUDNN_CUDART", "12080"),
                "-Dadjoint.cuda.libraryPath=" + fake.cudnnFolder(), "probe"));
        assertEquals("cuDNN 9.1.0 (libcudnn.so.9 at " + fake.cudnnFolder().resolve("libcudnn.so.9") + ")", elsewhere);
        String refused = convolutionOf(child(fake.cuda13(), Map.of("FAKE_CUDNN_FAIL", "cudnnCreate"), "probe"));
        assertEquals("im2col + cuBLAS (cuDNN: cuda: cudnnCreate failed: CUDNN_STATUS_NOT_INITIALIZED (1001))", refused);
    }

    @Test
    void aFolderWhoseCudnnIsBuiltForAnotherCudaIsPassedOverAndPartsThatDoNotLoadAreNamed()
            throws IOException, InterruptedException {
        // CUDA 12's cuBLAS: the first folder's cuDNN is CUDA 13's and is passed over for the second's.
        String path = convolutionOf(child(fake.cuda12(), Map.of(),
                "-Dadjoint.cuda.libraryPath=" + fake.cudnnFolder() + java.io.File.pathSeparator + fake.cudnn12Folder(), "probe"));
        assertTrue(path.startsWith("cuDNN 9.1.0 (libcudnn.so.9 at " + fake.cudnn12Folder().resolve("libcudnn.so.9")
                + "; its parts that did not load: libcudnn_broken.so.9 ("), path);
        // CUDA 13's cuBLAS: only a CUDA 12 cuDNN in the path, and CUDA 13's found by the dynamic linker refused too.
        String none = convolutionOf(child(fake.cuda12(), Map.of("FAKE_CUDNN_CUDART", "13000"),
                "-Dadjoint.cuda.libraryPath=" + fake.cudnnFolder(), "probe"));
        assertEquals("im2col + cuBLAS (cuDNN: cuDNN 9.1.0 is built for CUDA 13 (cudnnGetCudartVersion 13000) but"
                + " cuBLAS here is CUDA 12's)", none);
    }

    @Test
    void cudnnConvolutionsRepeatTheirBitsAndUseNoTf32UnlessAskedFor() throws IOException, InterruptedException {
        // The fake's non-deterministic backward algorithms add in another order every other call.
        Result off = child(fake.cuda13(), Map.of(), "conv");
        assertTrue(off.output().contains("convolution: cuDNN 9.1.0") && off.output().contains("\nrepeatable: true\n"),
                off.output());
        // Its math-type check refuses CUDNN_FMA_MATH when it expects TF32, and tensor-op math when it does not:
        // the trial finds the refusal, and the im2col path runs.
        Result expectingTf32 = child(fake.cuda13(), Map.of("FAKE_CUDNN_TF32", "1"), "conv");
        assertTrue(expectingTf32.output().contains("convolution: im2col + cuBLAS (cuDNN: the trial convolutions failed: the"
                + " trial cudnnConvolutionForward was declined: cuda: cudnnSetConvolutionMathType failed:"
                + " CUDNN_STATUS_BAD_PARAM (2000))\nrepeatable: true\n"),
                expectingTf32.output());
        Result on = child(fake.cuda13(), Map.of("FAKE_CUDNN_TF32", "1", "FAKE_CUBLAS_EXPECT_MODE", "3"), "-Dadjoint.cuda.tf32=true",
                "conv");
        assertTrue(on.output().contains("\nrepeatable: true\n"), on.output());
    }

    @Test
    void aCudnnOfAnotherMajorOrBuiltForAnotherCudaIsNotUsed() throws IOException, InterruptedException {
        String eight = convolutionOf(child(fake.cuda13(), Map.of("FAKE_CUDNN_VERSION", "8907"), "probe"));
        assertEquals("im2col + cuBLAS (cuDNN: libcudnn.so.9 reports cuDNN 8.9.7 (cudnnGetVersion 8907), not cuDNN 9)",
                eight);
        String cuda12Build = convolutionOf(child(fake.cuda13(), Map.of("FAKE_CUDNN_CUDART", "12080"), "probe"));
        assertEquals("im2col + cuBLAS (cuDNN: cuDNN 9.1.0 is built for CUDA 12 (cudnnGetCudartVersion 12080) but cuBLAS"
                + " here is CUDA 13's)", cuda12Build);
        // A size_t of 2^64 - 1 is not -1.
        String absurd = convolutionOf(child(fake.cuda13(), Map.of("FAKE_CUDNN_CUDART", "18446744073709551615"), "probe"));
        assertTrue(absurd.endsWith("(cuDNN: cuDNN 9.1.0 is built for CUDA 18446744073709551 (cudnnGetCudartVersion"
                + " 18446744073709551615) but cuBLAS here is CUDA 13's)"), absurd);
        Result convolved = child(fake.cuda13(), Map.of("FAKE_CUDNN_CUDART", "12080"), "conv");
        assertTrue(convolved.output().contains("\nrepeatable: true\nfallbacks: 0\n"), convolved.output());
    }

    @Test
    void aFailingOrWrongTrialLeavesTheIm2colPathWithTheReasonLogged() throws IOException, InterruptedException {
        Result failing = child(fake.cuda13(), Map.of("FAKE_CUDNN_FAIL", "cudnnConvolutionBackwardFilter"), "conv");
        String reason = "im2col + cuBLAS (cuDNN: the trial convolutions failed: cuda: cudnnConvolutionBackwardFilter"
                + " failed: CUDNN_STATUS_EXECUTION_FAILED (5000))";
        assertTrue(failing.output().contains("convolution: " + reason + "\nrepeatable: true\nfallbacks: 0\n"),
                failing.output());
        assertTrue(failing.output().contains("WARNING: Adjoint CUDA backend on device 0: cuDNN is not used; convolution: "
                + reason), failing.output());
        Result wrong = child(fake.cuda13(), Map.of("FAKE_CUDNN_WRONG", "cudnnConvolutionBackwardData"), "conv");
        assertTrue(wrong.output().contains("convolution: im2col + cuBLAS (cuDNN: the trial convolutions failed: the trial"
                + " cudnnConvolutionBackwardData differs from the im2col path: element 0 is "), wrong.output());
        assertTrue(wrong.output().contains("\nrepeatable: true\nfallbacks: 0\n"), wrong.output());
        Result required = child(fake.cuda13(), Map.of("FAKE_CUDNN_WRONG", "cudnnConvolutionForward"),
                "-Dadjoint.cuda.cudnn=require", "conv");
        assertTrue(required.output().contains("error: cuda conv2d: -Dadjoint.cuda.cudnn=require, but cuDNN is not used:"
                + " im2col + cuBLAS (cuDNN: the trial convolutions failed: the trial cudnnConvolutionForward differs"),
                required.output());
    }

    @Test
    void aFailingCudnnCallTakesTheIm2colPathCountedAndLoggedOnceOrUnderRequireThrows()
            throws IOException, InterruptedException {
        // The trial's weight gradient succeeds; every later one fails.
        Map<String, String> failAfterTrial = Map.of("FAKE_CUDNN_FAIL", "cudnnConvolutionBackwardFilter",
                "FAKE_CUDNN_FAIL_AFTER", "1");
        Result result = child(fake.cuda13(), failAfterTrial, "conv");
        assertTrue(result.output().contains("convolution: cuDNN 9.1.0") && result.output().contains("\nrepeatable: true\n"
                + "fallbacks: 2\n"), result.output());
        List<String> warnings = result.output().lines().filter(l -> l.startsWith("WARNING: Adjoint")).toList();
        assertEquals(List.of("WARNING: Adjoint CUDA backend on device 0: cuda conv2dWeightGrad: cuda:"
                + " cudnnConvolutionBackwardFilter failed: CUDNN_STATUS_EXECUTION_FAILED (5000); the call took the im2col"
                + " path (logged once per kind; CudaBackend.cudnnFallbacks() counts them)"), warnings, result.output());
        Result required = child(fake.cuda13(), failAfterTrial, "-Dadjoint.cuda.cudnn=require", "conv");
        assertTrue(required.output().contains("error: cuda conv2dWeightGrad: cuda: cudnnConvolutionBackwardFilter failed:"
                + " CUDNN_STATUS_EXECUTION_FAILED (5000); -Dadjoint.cuda.cudnn=require allows no fallback to the im2col"
                + " path"), required.output());
    }

    @Test
    void aResultThatAFailedCudnnCallLeftHalfWrittenIsOverwrittenByTheIm2colPath() throws IOException, InterruptedException {
        // After the trial, every forward call fills its result with NaN and fails: the im2col path writes it again.
        Result garbled = child(fake.cuda13(), Map.of("FAKE_CUDNN_GARBLE", "cudnnConvolutionForward", "FAKE_CUDNN_FAIL_AFTER", "1"),
                "conv");
        Result im2col = child(fake.cuda13(), Map.of(), "-Dadjoint.cuda.cudnn=false", "conv");
        assertTrue(garbled.output().contains("\nrepeatable: true\nfallbacks: 2\n"), garbled.output());
        String forwardBits = bits(im2col).split(" ")[0];
        assertEquals(forwardBits, bits(garbled).split(" ")[0], garbled.output());
    }

    private static String bits(Result result) {
        return result.output().lines().filter(l -> l.startsWith("result bits: ")).findFirst()
                .orElseThrow(() -> new AssertionError(result.output())).substring("result bits: ".length());
    }

    @Test
    void theTrialFindsABindingThatPassesTheStrideForTheDilation() throws IOException, InterruptedException {
        Result swapped = child(fake.cuda13(), Map.of("FAKE_CUDNN_SWAP_STRIDE_DILATION", "1"), "conv");
        assertTrue(swapped.output().contains("convolution: im2col + cuBLAS (cuDNN: the trial convolutions failed: the trial"
                + " cudnnConvolutionForward "), swapped.output());
        assertTrue(swapped.output().contains("\nrepeatable: true\nfallbacks: 0\n"), swapped.output());
    }

    @Test
    void aFailedChoiceIsKeptCountedOnEveryCallButNotAskedAgain() throws IOException, InterruptedException {
        // The trial's heuristic answers; the program's shape's fails (NOT_SUPPORTED) on each of its two calls.
        String heuristic = "cudnnGetConvolutionBackwardFilterAlgorithm_v7";
        Result result = child(fake.cuda13(), Map.of("FAKE_CUDNN_FAIL", heuristic, "FAKE_CUDNN_FAIL_AFTER", "1",
                "FAKE_CUDNN_TRACE", "1"), "conv");
        assertTrue(result.output().contains("convolution: cuDNN 9.1.0") && result.output().contains("\nrepeatable: true\n"
                + "fallbacks: 2\n"), result.output());
        assertEquals(2, result.output().lines().filter(l -> l.equals("fake cudnn: " + heuristic)).count(), result.output());
        List<String> warnings = result.output().lines().filter(l -> l.startsWith("WARNING: Adjoint")).toList();
        assertEquals(1, warnings.size(), result.output());
        assertTrue(warnings.get(0).contains("cuda conv2dWeightGrad: cuda: " + heuristic + " failed:"
                + " CUDNN_STATUS_NOT_SUPPORTED (3000)"), warnings.get(0));
    }

    @Test
    void requireMakesAnAbsentCudnnAnErrorAndAnUnknownValueIsNamed() throws IOException, InterruptedException {
        String line = convolutionOf(child(fake.cuda12(), Map.of(), "-Dadjoint.cuda.cudnn=require", "probe"));
        assertTrue(line.startsWith("im2col + cuBLAS (cuDNN: libcudnn.so.9 could not be loaded")
                && line.endsWith("; convolutions throw, since -Dadjoint.cuda.cudnn=require)"), line);
        Result absent = child(fake.cuda12(), Map.of(), "-Dadjoint.cuda.cudnn=require", "conv");
        assertTrue(absent.output().contains("error: cuda conv2d: -Dadjoint.cuda.cudnn=require, but cuDNN is not used:"
                + " im2col + cuBLAS (cuDNN: libcudnn.so.9 could not be loaded"), absent.output());
        Result present = child(fake.cuda13(), Map.of(), "-Dadjoint.cuda.cudnn=require", "conv");
        assertTrue(present.output().contains("convolution: cuDNN 9.1.0 (libcudnn.so.9, found by the dynamic linker),"
                + " required\nrepeatable: true\nfallbacks: 0\n"), present.output());
        Result unknown = child(fake.cuda13(), Map.of(), "-Dadjoint.cuda.cudnn=maybe", "probe");
        assertTrue(unknown.output().contains("-Dadjoint.cuda.cudnn=maybe is none of true, false, require"), unknown.output());
    }

    @Test
    void anAlgorithmWhoseWorkspaceIsAbsurdOrDoesNotFitMakesWayForTheNext() throws IOException, InterruptedException {
        // The forward list starts with SIZE_MAX and 2^40 bytes, the input gradient's with a query answering 2^63:
        // passed over whatever the memory.
        Result fits = child(fake.cuda13(), Map.of("FAKE_CUDNN_TRACE", "1", "FAKE_CUDNN_BIG_WORKSPACE", String.valueOf(1 << 20)),
                "conv");
        assertTrue(fits.output().contains("fake cudnn: cudnnConvolutionForward algorithm 2, workspace 1048576 bytes"),
                fits.output());
        assertTrue(fits.output().contains("fake cudnn: cudnnConvolutionBackwardData algorithm 1,"), fits.output());
        assertTrue(!fits.output().contains("algorithm 6,") && !fits.output().contains("algorithm 7,")
                && !fits.output().contains("algorithm 5,"), fits.output());
        // 256 MiB is within the limit, but not within a 64 MiB device: algorithm 0 runs instead, uncounted.
        Result tight = child(fake.cuda13(), Map.of("FAKE_CUDNN_TRACE", "1", "FAKE_CUDNN_BIG_WORKSPACE", String.valueOf(256 << 20),
                "FAKE_CUDA_CAPACITY", String.valueOf(64 << 20)), "conv");
        assertTrue(tight.output().contains("fake cudnn: cudnnConvolutionForward algorithm 0,")
                && !tight.output().contains("cudnnConvolutionForward algorithm 2,"), tight.output());
        assertTrue(tight.output().contains("\nrepeatable: true\nfallbacks: 0\n"), tight.output());
    }

    @Test
    void aShapeKeepsTheAlgorithmThatRanFirstAndFallsBackCountedWhenItsWorkspaceDoesNotFit()
            throws IOException, InterruptedException {
        Result result = child(fake.cuda13(), Map.of("FAKE_CUDNN_TRACE", "1", "FAKE_CUDNN_BIG_WORKSPACE", String.valueOf(48 << 20),
                "FAKE_CUDA_CAPACITY", String.valueOf(64 << 20)), "settle");
        assertEquals(0, result.exitCode(), result.output());
        String afterFirst = result.output().substring(result.output().indexOf("first call done"));
        // Algorithm 0 would fit the second time, but the shape took algorithm 2 first: the im2col path runs, counted.
        assertTrue(!afterFirst.contains("cudnnConvolutionForward algorithm"), result.output());
        assertTrue(afterFirst.contains("\nfallbacks: 1\n"), result.output());
        assertTrue(result.output().contains("chosen on its first run, does not fit in device memory now (algorithm 2 needs "
                + (48 << 20) + " bytes)"), result.output());
        assertTrue(!result.output().contains("cudnnConvolutionForward algorithm 0,"), result.output());
    }

    @Test
    void cudnnDescriptorsAreCachedPerShapeAndTheOldestDestroyed() throws IOException, InterruptedException {
        Result result = child(fake.cuda13(), Map.of(), "cache");
        assertEquals(0, result.exitCode(), result.output());
        // Per shape a tensor, a filter and an output descriptor, and one convolution descriptor per direction used.
        // The trial's shape is cached too (3 + 3): 6 + 15.
        assertTrue(result.output().contains("after 3 shapes, twice: 21 live descriptors\n"), result.output());
        assertTrue(result.output().contains("after 80 shapes: " + 4 * ForeignCudnn.CACHE_CAPACITY + " live descriptors\n"),
                result.output());
        // Closing twice is safe, and a closed binding refuses to prepare.
        assertTrue(result.output().contains(" shapes; after: " + ForeignCudnn.CACHE_CAPACITY
                + " shapes\nafter close: cuda: cuDNN is closed\n"), result.output());
    }
}
