package org.adjoint.cuda.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Optional;

/**
 * {@link Nvrtc} through {@code java.lang.foreign}: a binding of exactly the NVRTC entry points
 * used, for CUDA 13's {@code libnvrtc.so.13}. Seven are required; {@code nvrtcGetCUBINSize},
 * {@code nvrtcGetCUBIN} and {@code nvrtcVersion} are optional: without the first two only PTX
 * is produced.
 */
public final class ForeignNvrtc implements Nvrtc {

    /** Library file names tried, newest first. */
    public static final List<String> LIBRARY_NAMES = List.of("libnvrtc.so.13", "libnvrtc.so.12");

    private final NativeLibraries.Loaded library;
    private final MethodHandle createProgram;
    private final MethodHandle compileProgram;
    private final MethodHandle getPtxSize;
    private final MethodHandle getPtx;
    private final MethodHandle getProgramLogSize;
    private final MethodHandle getProgramLog;
    private final MethodHandle destroyProgram;
    private final Optional<MethodHandle> getCubinSize;
    private final Optional<MethodHandle> getCubin;
    private final Optional<MethodHandle> version;

    private ForeignNvrtc(NativeLibraries.Loaded library) {
        this.library = library;
        createProgram = library.downcall("nvrtcCreateProgram",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        compileProgram = library.downcall("nvrtcCompileProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        getPtxSize = library.downcall("nvrtcGetPTXSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        getPtx = library.downcall("nvrtcGetPTX", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        getProgramLogSize = library.downcall("nvrtcGetProgramLogSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        getProgramLog = library.downcall("nvrtcGetProgramLog", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        destroyProgram = library.downcall("nvrtcDestroyProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        getCubinSize = library.optionalDowncall("nvrtcGetCUBINSize", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        getCubin = library.optionalDowncall("nvrtcGetCUBIN", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        version = library.optionalDowncall("nvrtcVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }

    /**
     * Binds the entry points of an already loaded library.
     *
     * @param library an NVRTC library
     * @return the binding
     * @throws IllegalStateException naming the first symbol the library lacks
     */
    public static ForeignNvrtc bind(NativeLibraries.Loaded library) {
        return new ForeignNvrtc(library);
    }

    /**
     * Loads {@code libnvrtc.so.13} (or {@code .12}) from the usual places and binds it.
     *
     * @return the binding
     * @throws IllegalStateException naming the libraries and folders tried, or the missing symbol
     */
    public static ForeignNvrtc load() {
        // NVRTC opens libnvrtc-builtins by name while compiling; loaded beforehand, it is found.
        return bind(NativeLibraries.load(LIBRARY_NAMES, NativeLibraries.searchDirectories(),
                name -> name.replace("libnvrtc.so", "libnvrtc-builtins.so")));
    }

    @Override
    public String description() {
        return "java.lang.foreign (" + library.location() + ")";
    }

    @Override
    public String compileToPtx(String source, String programName, List<String> options) {
        return compile(source, programName, options, (arena, program) -> {
            MemorySegment sizeOut = arena.allocate(JAVA_LONG);
            Nvrtc.check((int) getPtxSize.invokeExact(program, sizeOut), "nvrtcGetPTXSize");
            long size = sizeOut.get(JAVA_LONG, 0);
            MemorySegment ptx = arena.allocate(Math.max(1, size));
            Nvrtc.check((int) getPtx.invokeExact(program, ptx), "nvrtcGetPTX");
            return ptx.getString(0);
        });
    }

    @Override
    public byte[] compileToCubin(String source, String programName, List<String> options) {
        if (getCubinSize.isEmpty() || getCubin.isEmpty()) {
            throw new UnsupportedOperationException(library.location() + " has no symbol "
                    + (getCubinSize.isEmpty() ? "nvrtcGetCUBINSize" : "nvrtcGetCUBIN"));
        }
        MethodHandle size = getCubinSize.get();
        MethodHandle get = getCubin.get();
        return compile(source, programName, options, (arena, program) -> {
            MemorySegment sizeOut = arena.allocate(JAVA_LONG);
            Nvrtc.check((int) size.invokeExact(program, sizeOut), "nvrtcGetCUBINSize");
            long bytes = sizeOut.get(JAVA_LONG, 0);
            if (bytes <= 0) {
                throw new IllegalStateException("cuda: NVRTC returned no CUBIN for " + programName);
            }
            MemorySegment cubin = arena.allocate(bytes);
            Nvrtc.check((int) get.invokeExact(program, cubin), "nvrtcGetCUBIN");
            return cubin.toArray(JAVA_BYTE);
        });
    }

    @Override
    public Optional<String> version() {
        if (version.isEmpty()) {
            return Optional.empty();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment major = arena.allocate(JAVA_INT);
            MemorySegment minor = arena.allocate(JAVA_INT);
            if ((int) version.get().invokeExact(major, minor) != 0) {
                return Optional.empty();
            }
            return Optional.of(major.get(JAVA_INT, 0) + "." + minor.get(JAVA_INT, 0));
        } catch (Error e) {
            throw e; // out of memory, a crashed binding: not a missing version
        } catch (Throwable t) {
            return Optional.empty(); // the version is for the log line, which then leaves it out
        }
    }

    /** Reads a compiled program's output. */
    @FunctionalInterface
    private interface Output<T> {
        T read(Arena arena, MemorySegment program) throws Throwable;
    }

    private <T> T compile(String source, String programName, List<String> options, Output<T> output) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment programOut = arena.allocate(ADDRESS);
            Nvrtc.check((int) createProgram.invokeExact(programOut, arena.allocateFrom(source),
                    arena.allocateFrom(programName), 0, MemorySegment.NULL, MemorySegment.NULL), "nvrtcCreateProgram");
            MemorySegment program = programOut.get(ADDRESS, 0);
            try {
                MemorySegment optionArray = arena.allocate(ADDRESS, Math.max(1, options.size()));
                for (int i = 0; i < options.size(); i++) {
                    optionArray.setAtIndex(ADDRESS, i, arena.allocateFrom(options.get(i)));
                }
                int result = (int) compileProgram.invokeExact(program, options.size(), optionArray);
                if (result != 0) {
                    throw Nvrtc.compilationFailed(programName, options, result, log(arena, program));
                }
                return output.read(arena, program);
            } finally {
                int ignored = (int) destroyProgram.invokeExact(programOut);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cuda: calling NVRTC through java.lang.foreign failed: " + t, t);
        }
    }

    private String log(Arena arena, MemorySegment program) throws Throwable {
        MemorySegment sizeOut = arena.allocate(JAVA_LONG);
        if ((int) getProgramLogSize.invokeExact(program, sizeOut) != 0) {
            return "";
        }
        long size = sizeOut.get(JAVA_LONG, 0);
        if (size <= 1) {
            return "";
        }
        MemorySegment log = arena.allocate(size);
        if ((int) getProgramLog.invokeExact(program, log) != 0) {
            return "";
        }
        return log.getString(0);
    }
}
