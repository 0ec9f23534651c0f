package org.adjoint.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.function.Supplier;

import org.junit.jupiter.api.Test;

class BindingChoiceTest {

    private static final Supplier<String> JCUDA = () -> "JCublas2 (libcublas.so.12)";
    private static final Supplier<String> FOREIGN = () -> "java.lang.foreign (libcublas.so.13)";
    private static final Supplier<String> JCUDA_MISSING = () -> {
        throw new UnsatisfiedLinkError("Error while loading native library \"JCublas2-12.6.0-linux-x86_64\"\n"
                + "java.lang.UnsatisfiedLinkError: /tmp/libJCublas2.so: libcublas.so.12: cannot open shared object file:"
                + " No such file or directory");
    };
    private static final Supplier<String> FOREIGN_MISSING = () -> {
        throw new IllegalStateException("libcublas.so.13 or libcublas.so.12 could not be loaded: not found");
    };

    private static BindingChoice<String> choose(String forced, Supplier<String> jcuda, Supplier<String> foreign) {
        return BindingChoice.choose("cuBLAS", forced, jcuda, foreign, binding -> binding);
    }

    @Test
    void jcudaFirst() {
        BindingChoice<String> choice = choose(null, JCUDA, FOREIGN);
        assertEquals("JCublas2 (libcublas.so.12)", choice.binding());
        assertEquals("cuBLAS through JCublas2 (libcublas.so.12)", choice.explanation());
    }

    @Test
    void foreignWhenJcudaDoesNotLoadAndTheLineSaysWhy() {
        BindingChoice<String> choice = choose(" ", JCUDA_MISSING, FOREIGN);
        assertEquals("java.lang.foreign (libcublas.so.13)", choice.binding());
        assertEquals("cuBLAS through java.lang.foreign (libcublas.so.13), because JCuda's binding did not load"
                + " (/tmp/libJCublas2.so: libcublas.so.12: cannot open shared object file: No such file or directory)",
                choice.explanation());
    }

    @Test
    void neitherLoadingNamesBothFailures() {
        var error = assertThrows(UnavailableException.class, () -> choose(null, JCUDA_MISSING, FOREIGN_MISSING));
        assertEquals("cuBLAS does not load through either binding: JCuda: /tmp/libJCublas2.so: libcublas.so.12: cannot"
                + " open shared object file: No such file or directory; java.lang.foreign: libcublas.so.13 or"
                + " libcublas.so.12 could not be loaded: not found", error.getMessage());
    }

    @Test
    void thePropertyForcesOneAndNeverFallsBack() {
        assertEquals("cuBLAS through java.lang.foreign (libcublas.so.13) (forced by -Dadjoint.cuda.bindings=ffm)",
                choose("FFM", JCUDA, FOREIGN).explanation());
        assertEquals("cuBLAS through JCublas2 (libcublas.so.12) (forced by -Dadjoint.cuda.bindings=jcuda)",
                choose("jcuda", JCUDA, FOREIGN).explanation());
        var error = assertThrows(UnavailableException.class, () -> choose("jcuda", JCUDA_MISSING, FOREIGN));
        assertEquals("cuBLAS does not load through the JCuda binding that -Dadjoint.cuda.bindings=jcuda asks for:"
                + " /tmp/libJCublas2.so: libcublas.so.12: cannot open shared object file: No such file or directory",
                error.getMessage());
        var unknown = assertThrows(UnavailableException.class, () -> choose("jni", JCUDA, FOREIGN));
        assertEquals("-Dadjoint.cuda.bindings=jni is not a binding (expected jcuda or ffm)", unknown.getMessage());
    }
}
