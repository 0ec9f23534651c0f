package org.adjoint.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class NativeErrorsTest {

    /** The shape of what JCuda's LibUtils throws when a CUDA library is missing (seen on a CPU-only machine). */
    private static final String JCUDA_ERROR = """
            Error while loading native library "JCublas2-12.6.0-linux-x86_64"
            Operating system name: Linux
            Architecture         : amd64
            Architecture bit size: 64
            ---(start of nested stack traces)---
            Stack trace from the attempt to load the library as a file:
            java.lang.UnsatisfiedLinkError: no JCublas2-12.6.0-linux-x86_64 in java.library.path: /usr/lib64:/lib64
            \tat java.base/java.lang.ClassLoader.loadLibrary(ClassLoader.java:2285)
            Stack trace from the attempt to load the library as a resource:
            java.lang.UnsatisfiedLinkError: /tmp/libJCublas2-12.6.0-linux-x86_64.so: libcublas.so.12: cannot open shared object file: No such file or directory
            \tat java.base/jdk.internal.loader.NativeLibraries.load(Native Method)
            ---(end of nested stack traces)---
            """;

    @Test
    void picksTheLineThatNamesTheMissingLibrary() {
        assertEquals("/tmp/libJCublas2-12.6.0-linux-x86_64.so: libcublas.so.12: cannot open shared object file:"
                + " No such file or directory", NativeErrors.summary(new UnsatisfiedLinkError(JCUDA_ERROR)));
    }

    @Test
    void looksThroughCauses() {
        var wrapped = new IllegalStateException("loading failed", new UnsatisfiedLinkError(JCUDA_ERROR));
        assertEquals("/tmp/libJCublas2-12.6.0-linux-x86_64.so: libcublas.so.12: cannot open shared object file:"
                + " No such file or directory", NativeErrors.summary(wrapped));
    }

    @Test
    void otherwiseTheFirstLine() {
        assertEquals("java.lang.NoClassDefFoundError: Could not initialize class jcuda.jcublas.JCublas2",
                NativeErrors.summary(new NoClassDefFoundError("Could not initialize class jcuda.jcublas.JCublas2")));
        assertEquals("cuda: cublasCreate_v2 failed: CUBLAS_STATUS_NOT_INITIALIZED",
                NativeErrors.summary(new IllegalStateException("cuda: cublasCreate_v2 failed: CUBLAS_STATUS_NOT_INITIALIZED\nmore")));
        assertEquals("java.lang.IllegalStateException", NativeErrors.summary(new IllegalStateException()));
    }
}
