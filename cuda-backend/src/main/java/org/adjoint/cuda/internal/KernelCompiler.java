package org.adjoint.cuda.internal;

import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import org.adjoint.kernels.cuda.CudaKernelSource;

/**
 * Compiles {@code adjoint.cu} with NVRTC for a device and loads its kernels: a CUBIN for the
 * device's own architecture first, PTX that the driver compiles as the fallback.
 */
final class KernelCompiler {

    /** Program name NVRTC shows in diagnostics. */
    static final String PROGRAM = "adjoint.cu";

    /**
     * The kernels loaded from one module.
     *
     * @param functions each kernel by name
     * @param form      what was loaded, for the log: {@code CUBIN for sm_90}, or {@code PTX for
     *                  compute_90} and why the CUBIN was not used
     */
    record Module(Map<String, CUfunction> functions, String form) {
    }

    private KernelCompiler() {
    }

    /**
     * NVRTC's options for machine code (a CUBIN) for a device's own architecture, the form
     * loaded first: any driver that knows the architecture loads it, however new the NVRTC
     * that made it. Plain IEEE arithmetic, as for {@link #compileOptions}.
     *
     * @param major compute capability, major
     * @param minor compute capability, minor
     * @return the options
     */
    static List<String> cubinOptions(int major, int minor) {
        return List.of("--gpu-architecture=sm_" + major + minor);
    }

    /**
     * NVRTC's options for the fallback: PTX for the device's own architecture, which the driver
     * compiles to machine code when it loads the module (and refuses, with
     * {@code CUDA_ERROR_UNSUPPORTED_PTX_VERSION}, when it is older than NVRTC). Plain IEEE
     * arithmetic: the kernels' rounding follows the CPU's, which fast-math would lose.
     *
     * @param major compute capability, major
     * @param minor compute capability, minor
     * @return the options
     */
    static List<String> compileOptions(int major, int minor) {
        return List.of("--gpu-architecture=compute_" + major + minor);
    }

    /**
     * Compiles the source and loads every kernel.
     *
     * @param nvrtc  the compiler
     * @param major  compute capability, major
     * @param minor  compute capability, minor
     * @param names  the kernels to load
     * @return the loaded kernels and the form they were loaded in
     * @throws IllegalStateException when compiling or loading fails, with the compiler's log
     */
    static Module compile(Nvrtc nvrtc, int major, int minor, List<String> names) {
        List<String> missing = new ArrayList<>(names);
        missing.removeAll(CudaKernelSource.kernelNames());
        if (!missing.isEmpty()) {
            throw new IllegalStateException("cuda: the kernel source lacks " + missing + " (it defines "
                    + CudaKernelSource.kernelNames() + ")");
        }
        String source = CudaKernelSource.source();
        String cubinNotUsed = null;
        IllegalStateException cubinFailure = null;
        byte[] cubin = null;
        try {
            cubin = nvrtc.compileToCubin(source, PROGRAM, cubinOptions(major, minor));
        } catch (UnsupportedOperationException e) {
            cubinNotUsed = e.getMessage();
        } catch (IllegalStateException e) {
            // An NVRTC that does not know sm_XY yet: PTX may still do. Kept for the PTX's failure.
            cubinFailure = e;
            cubinNotUsed = e.getMessage().lines().findFirst().orElse("");
        }
        if (cubin != null) {
            CUmodule module = new CUmodule();
            int loaded = cuModuleLoadData(module, cubin);
            if (loaded == CUresult.CUDA_SUCCESS) {
                return load(module, names, "CUBIN for sm_" + major + minor);
            }
            cubinNotUsed = "cuModuleLoadData refused the CUBIN: " + CUresult.stringFor(loaded);
        }
        String ptx;
        try {
            ptx = nvrtc.compileToPtx(source, PROGRAM, compileOptions(major, minor));
        } catch (IllegalStateException e) {
            if (cubinFailure != null) {
                e.addSuppressed(cubinFailure);
            }
            throw e;
        }
        byte[] text = ptx.getBytes(StandardCharsets.UTF_8);
        CUmodule module = new CUmodule();
        int loaded = cuModuleLoadData(module, Arrays.copyOf(text, text.length + 1));
        if (loaded != 0) {
            Driver.check(loaded, "cuModuleLoadData (the driver compiling NVRTC's PTX for compute capability "
                    + major + "." + minor + "; CUDA_ERROR_UNSUPPORTED_PTX_VERSION means the driver is older than NVRTC;"
                    + " the CUBIN was not used: " + cubinNotUsed + ")");
        }
        return load(module, names, "PTX for compute_" + major + minor + " (CUBIN not used: " + cubinNotUsed + ")");
    }

    /**
     * Looks every kernel up in a loaded module. A module without one of them (the source
     * defines it, so the image is not this source's) is unloaded and refused, whichever form
     * it was: the other form of the same source would lack it too.
     */
    private static Module load(CUmodule module, List<String> names, String form) {
        Map<String, CUfunction> functions = new HashMap<>();
        try {
            for (String name : names) {
                CUfunction function = new CUfunction();
                Driver.check(cuModuleGetFunction(function, module, name), "cuModuleGetFunction(" + name + ") in the "
                        + form);
                functions.put(name, function);
            }
        } catch (IllegalStateException e) {
            int unloaded = cuModuleUnload(module);
            if (unloaded != CUresult.CUDA_SUCCESS) {
                e.addSuppressed(new IllegalStateException("cuModuleUnload: " + CUresult.stringFor(unloaded)));
            }
            throw e;
        }
        return new Module(functions, form);
    }
}
