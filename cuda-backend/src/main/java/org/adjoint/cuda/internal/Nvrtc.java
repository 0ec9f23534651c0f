package org.adjoint.cuda.internal;

import java.util.List;
import java.util.Optional;

/**
 * Run-time compilation of CUDA C to PTX or to a CUBIN ({@code nvrtcCreateProgram},
 * {@code nvrtcCompileProgram}, {@code nvrtcGetPTXSize}, {@code nvrtcGetPTX},
 * {@code nvrtcGetCUBINSize}, {@code nvrtcGetCUBIN}, {@code nvrtcGetProgramLogSize},
 * {@code nvrtcGetProgramLog}, {@code nvrtcDestroyProgram}, and {@code nvrtcVersion} for the log
 * line). Two implementations:
 * {@link JNvrtcCompiler} (JCuda's JNvrtc, for CUDA 12's {@code libnvrtc.so.12}) and
 * {@link ForeignNvrtc} ({@code java.lang.foreign}, for CUDA 13's {@code libnvrtc.so.13}).
 */
public interface Nvrtc {

    /**
     * Which binding and library this is, for the log line.
     *
     * @return for example {@code JNvrtc (libnvrtc.so.12)}
     */
    String description();

    /**
     * Compiles one translation unit to PTX.
     *
     * @param source      CUDA C source
     * @param programName file name shown in diagnostics
     * @param options     compiler options, for example {@code --gpu-architecture=compute_90}
     * @return the PTX text
     * @throws IllegalStateException with the compiler's log when compilation fails
     */
    String compileToPtx(String source, String programName, List<String> options);

    /**
     * Compiles one translation unit to machine code (a CUBIN) for one real architecture, which
     * any driver that knows the architecture loads, whatever PTX version it understands.
     *
     * @param source      CUDA C source
     * @param programName file name shown in diagnostics
     * @param options     compiler options, for example {@code --gpu-architecture=sm_90}
     * @return the CUBIN image
     * @throws UnsupportedOperationException when this NVRTC lacks {@code nvrtcGetCUBIN}
     * @throws IllegalStateException         with the compiler's log when compilation fails
     */
    byte[] compileToCubin(String source, String programName, List<String> options);

    /**
     * NVRTC's own version ({@code nvrtcVersion}), for the log line.
     *
     * @return for example {@code 12.8}, or empty when the library does not say
     */
    Optional<String> version();

    /**
     * The name of an {@code nvrtcResult}.
     *
     * @param result the value
     * @return for example {@code NVRTC_ERROR_COMPILATION}
     */
    static String resultName(int result) {
        return switch (result) {
            case 0 -> "NVRTC_SUCCESS";
            case 1 -> "NVRTC_ERROR_OUT_OF_MEMORY";
            case 2 -> "NVRTC_ERROR_PROGRAM_CREATION_FAILURE";
            case 3 -> "NVRTC_ERROR_INVALID_INPUT";
            case 4 -> "NVRTC_ERROR_INVALID_PROGRAM";
            case 5 -> "NVRTC_ERROR_INVALID_OPTION";
            case 6 -> "NVRTC_ERROR_COMPILATION";
            case 7 -> "NVRTC_ERROR_BUILTIN_OPERATION_FAILURE";
            case 11 -> "NVRTC_ERROR_INTERNAL_ERROR";
            default -> "nvrtcResult " + result;
        };
    }

    /**
     * Throws unless an NVRTC call succeeded.
     *
     * @param result   what it returned
     * @param function its name
     * @throws IllegalStateException naming the call and the result
     */
    static void check(int result, String function) {
        if (result != 0) {
            throw new IllegalStateException("cuda: " + function + " failed: " + resultName(result));
        }
    }

    /**
     * The exception for a failed compilation.
     *
     * @param programName the program
     * @param options     its options
     * @param result      what {@code nvrtcCompileProgram} returned
     * @param log         the compiler's log
     * @return an exception whose message holds the log
     */
    static IllegalStateException compilationFailed(String programName, List<String> options, int result, String log) {
        // NVRTC loads libnvrtc-builtins itself, by name: from a folder on no search path it is not found.
        String hint = result == 7 ? " (libnvrtc-builtins did not load: add the folder of libnvrtc to LD_LIBRARY_PATH)" : "";
        return new IllegalStateException("cuda: NVRTC could not compile " + programName + " with " + options + ": "
                + resultName(result) + hint + (log == null || log.isBlank() ? "" : "\n" + log.strip()));
    }
}
