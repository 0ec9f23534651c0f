package org.adjoint.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import org.adjoint.Tensor;
import org.adjoint.backend.Backend;
import org.adjoint.backend.Backends;
import org.junit.jupiter.api.BeforeEach;

/**
 * Base of every conformance suite: a backend module extends a suite, names its backend, and
 * the same test bodies run on it. Suites are abstract and named {@code *Conformance}, so the
 * engine's own build does not run them.
 */
public abstract class BackendConformance {

    /**
     * The backend under test.
     *
     * @return an available backend
     */
    protected abstract Backend backend();

    @BeforeEach
    void selectBackend() {
        Backends.use(backend());
    }

    /**
     * Runs {@code work} with {@code backend} as the current backend, then restores the one before.
     *
     * @param backend the backend to create tensors on
     * @param work    what to run
     * @param <T>     its result
     * @return the result
     */
    public static <T> T using(Backend backend, java.util.function.Supplier<T> work) {
        Backend previous = Backends.current();
        Backends.use(backend);
        try {
            return work.get();
        } finally {
            Backends.use(previous);
        }
    }

    /**
     * The backend as the SPI alone sees it: a proxy that implements only {@link Backend}, so
     * optional parts ({@code FusedAdam}, {@code FusedClipping}) are hidden and their composed
     * forms run; {@code answer} may answer a call itself (by the method's name and arguments)
     * or return {@code null} to pass it on.
     *
     * @param backend the backend
     * @param answer  calls answered by the view, or {@code null} for none
     * @return the view
     */
    protected static Backend spiView(Backend backend,
                                     java.util.function.BiFunction<String, Object[], Object> answer) {
        return (Backend) java.lang.reflect.Proxy.newProxyInstance(Backend.class.getClassLoader(),
                new Class<?>[] {Backend.class}, (proxy, method, args) -> {
                    Object answered = answer == null ? null : answer.apply(method.getName(), args);
                    if (answered != null) {
                        return answered;
                    }
                    try {
                        return method.invoke(backend, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** A 1-D tensor of the given values. */
    protected static Tensor vec(float... values) {
        return Tensor.of(values);
    }

    /** Asserts shape and values exactly. */
    protected static void assertTensor(Tensor actual, int[] shape, float... expected) {
        assertArrayEquals(shape, actual.shape(), "shape");
        assertArrayEquals(expected, actual.toFloatArray(), "values of " + actual);
    }

    /** Asserts shape and values within an absolute tolerance. */
    protected static void assertClose(Tensor actual, int[] shape, double tolerance, float... expected) {
        assertArrayEquals(shape, actual.shape(), "shape");
        float[] values = actual.toFloatArray();
        assertEquals(expected.length, values.length, "element count");
        for (int i = 0; i < values.length; i++) {
            if (!(Math.abs(values[i] - expected[i]) <= tolerance)) {
                fail("element " + i + ": expected " + expected[i] + " but was " + values[i] + " (tolerance "
                        + tolerance + ") in " + actual);
            }
        }
    }

    /** Shorthand for a shape literal. */
    protected static int[] shape(int... dims) {
        return dims;
    }
}
