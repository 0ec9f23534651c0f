package org.adjoint.cuda.internal;

import java.util.List;
import java.util.Optional;

import jcuda.nvrtc.JNvrtc;
import jcuda.nvrtc.nvrtcProgram;

/** {@link Nvrtc} through JCuda's JNvrtc, which links against CUDA 12's {@code libnvrtc.so.12}. */
public final class JNvrtcCompiler implements Nvrtc {

    private JNvrtcCompiler() {
    }

    /**
     * Loads JNvrtc.
     *
     * @return the binding
     * @throws LinkageError when JNvrtc's natives or {@code libnvrtc.so.12} do not load
     */
    public static JNvrtcCompiler load() {
        JNvrtc.setExceptionsEnabled(false);
        return new JNvrtcCompiler();
    }

    @Override
    public String description() {
        return "JNvrtc (libnvrtc.so.12)";
    }

    @Override
    public String compileToPtx(String source, String programName, List<String> options) {
        nvrtcProgram program = compile(source, programName, options);
        try {
            long[] size = new long[1];
            Nvrtc.check(JNvrtc.nvrtcGetPTXSize(program, size), "nvrtcGetPTXSize");
            String[] ptx = new String[1];
            Nvrtc.check(JNvrtc.nvrtcGetPTX(program, ptx), "nvrtcGetPTX");
            if (ptx[0] == null || ptx[0].isEmpty()) {
                throw new IllegalStateException("cuda: NVRTC returned no PTX for " + programName
                        + " (nvrtcGetPTXSize said " + size[0] + " bytes)");
            }
            return ptx[0];
        } finally {
            JNvrtc.nvrtcDestroyProgram(program);
        }
    }

    @Override
    public byte[] compileToCubin(String source, String programName, List<String> options) {
        // libnvrtc.so.12 has had nvrtcGetCUBIN since CUDA 11.1, so JNvrtc always offers it.
        nvrtcProgram program = compile(source, programName, options);
        try {
            long[] size = new long[1];
            Nvrtc.check(JNvrtc.nvrtcGetCUBINSize(program, size), "nvrtcGetCUBINSize");
            if (size[0] <= 0 || size[0] > Integer.MAX_VALUE) {
                throw new IllegalStateException("cuda: NVRTC returned no CUBIN for " + programName
                        + " (nvrtcGetCUBINSize said " + size[0] + " bytes)");
            }
            byte[] cubin = new byte[(int) size[0]];
            Nvrtc.check(JNvrtc.nvrtcGetCUBIN(program, cubin), "nvrtcGetCUBIN");
            return cubin;
        } finally {
            JNvrtc.nvrtcDestroyProgram(program);
        }
    }

    @Override
    public Optional<String> version() {
        int[] major = new int[1];
        int[] minor = new int[1];
        return JNvrtc.nvrtcVersion(major, minor) == 0 ? Optional.of(major[0] + "." + minor[0]) : Optional.empty();
    }

    /** Creates and compiles a program; the caller destroys it. */
    private static nvrtcProgram compile(String source, String programName, List<String> options) {
        nvrtcProgram program = new nvrtcProgram();
        Nvrtc.check(JNvrtc.nvrtcCreateProgram(program, source, programName, 0, null, null), "nvrtcCreateProgram");
        String[] optionArray = options.toArray(String[]::new);
        int result = JNvrtc.nvrtcCompileProgram(program, optionArray.length, optionArray);
        if (result != 0) {
            String[] log = new String[1];
            JNvrtc.nvrtcGetProgramLog(program, log);
            JNvrtc.nvrtcDestroyProgram(program);
            throw Nvrtc.compilationFailed(programName, options, result, log[0]);
        }
        return program;
    }
}
