package org.adjoint.conformance;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;

import org.adjoint.backend.Backend;

/**
 * A backend that forwards every call to the one under test and counts the buffers asked of
 * it ({@code allocate}, {@code allocateUninitialized} and {@code upload}), so that a suite can
 * show which operations take backend memory on any backend, and the calls of each method. A proxy rather than a hand-written delegate, so that a method
 * added to {@link Backend} is forwarded without changes here.
 */
final class CountingBackend implements InvocationHandler {

    private final Backend target;
    private final Backend backend;
    private long buffers;
    private final Map<String, Long> calls = new HashMap<>();

    /**
     * Wraps a backend.
     *
     * @param target the backend that does the work
     */
    CountingBackend(Backend target) {
        this.target = target;
        this.backend = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                this);
    }

    /**
     * The counting backend, to make current.
     *
     * @return the proxy
     */
    Backend backend() {
        return backend;
    }

    /**
     * The buffers asked for so far.
     *
     * @return the count of {@code allocate}, {@code allocateUninitialized} and {@code upload} calls
     */
    long buffers() {
        return buffers;
    }

    /**
     * The calls of one backend method so far.
     *
     * @param name the method's name
     * @return how often it was called
     */
    long calls(String name) {
        return calls.getOrDefault(name, 0L);
    }

    @Override
    public Object invoke(Object self, Method method, Object[] arguments) throws Throwable {
        calls.merge(method.getName(), 1L, Long::sum);
        switch (method.getName()) {
            case "allocate", "allocateUninitialized", "upload" -> buffers++;
            // Identity, not the target's: tensors compare backends with == and maps key on them.
            case "equals" -> {
                return self == arguments[0];
            }
            case "hashCode" -> {
                return System.identityHashCode(self);
            }
            case "toString" -> {
                return "counting " + target;
            }
            default -> {
            }
        }
        try {
            return method.invoke(target, arguments);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
