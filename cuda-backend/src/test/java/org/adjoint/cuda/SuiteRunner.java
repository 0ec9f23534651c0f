package org.adjoint.cuda;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.NullEnum;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs a JUnit Jupiter test class without JUnit's launcher, in the child JVM of
 * {@link FakeDriverTest} ({@link FakeCudaChild}), where the launcher's class-path scanning and
 * reports would add nothing: {@code @BeforeAll} and {@code @AfterAll}, {@code @BeforeEach}, {@code @Test}
 * methods (with {@code @TempDir Path} parameters), and {@code @ParameterizedTest} methods fed
 * by a {@code @MethodSource} of a simple method name, by every constant of an
 * {@code @EnumSource} or by a {@code @ValueSource} of numbers or strings. A test of any other shape is not run; the summary counts it as left
 * out rather than passing it silently.
 */
final class SuiteRunner {

    private final Class<?> type;
    private final List<Method> beforeEach = new ArrayList<>();
    private final List<Method> tests = new ArrayList<>();
    private final List<Method> beforeAll = new ArrayList<>();
    private final List<Method> afterAll = new ArrayList<>();
    private int passed;
    private int failed;
    private int leftOut;

    SuiteRunner(Class<?> type) {
        this.type = type;
        for (Class<?> c = type; c != Object.class; c = c.getSuperclass()) {
            for (Method method : c.getDeclaredMethods()) {
                method.setAccessible(true);
                boolean isStatic = Modifier.isStatic(method.getModifiers());
                if (isStatic && method.isAnnotationPresent(BeforeAll.class)) {
                    beforeAll.add(0, method);
                } else if (isStatic && method.isAnnotationPresent(AfterAll.class)) {
                    afterAll.add(method);
                } else if (!isStatic && method.isAnnotationPresent(BeforeEach.class)) {
                    beforeEach.add(0, method);
                } else if (!isStatic && (method.isAnnotationPresent(Test.class)
                        || method.isAnnotationPresent(ParameterizedTest.class))) {
                    tests.add(method);
                }
            }
        }
        tests.sort(Comparator.comparing(Method::getName));
    }

    /**
     * Runs the class, printing a line per test and {@code passed=P failed=F left out=L}.
     *
     * @return whether nothing failed
     * @throws ReflectiveOperationException when the class cannot be instantiated or a lifecycle method fails
     */
    boolean run() throws ReflectiveOperationException {
        for (Method method : beforeAll) {
            method.invoke(null);
        }
        try {
            for (Method method : tests) {
                List<Object[]> cases = cases(method);
                if (cases == null) {
                    leftOut++;
                    System.out.println("LEFT OUT " + method.getName() + " (a parameter source this runner does not know)");
                    continue;
                }
                runCases(method, cases);
            }
        } finally {
            for (Method method : afterAll) {
                method.invoke(null);
            }
        }
        System.out.println("passed=" + passed + " failed=" + failed + (leftOut == 0 ? "" : " left out=" + leftOut));
        return failed == 0;
    }

    private void runCases(Method method, List<Object[]> cases) throws ReflectiveOperationException {
        int failures = 0;
        for (Object[] arguments : cases) {
            String name = method.getName() + (method.isAnnotationPresent(ParameterizedTest.class)
                    ? Arrays.toString(arguments) : "");
            Throwable failure = invoke(method, arguments);
            if (failure != null) {
                failures++;
                System.out.println("FAIL " + name + ": " + failure);
            }
        }
        if (failures == 0) {
            passed++;
            System.out.println("PASS " + method.getName()
                    + (method.isAnnotationPresent(ParameterizedTest.class) ? " (" + cases.size() + " cases)" : ""));
        } else {
            failed++;
        }
    }

    /** The argument lists of one test: one empty list for a plain test, null when its source is unknown here. */
    private List<Object[]> cases(Method method) throws ReflectiveOperationException {
        if (method.isAnnotationPresent(Test.class)) {
            for (Parameter parameter : method.getParameters()) {
                if (!parameter.isAnnotationPresent(TempDir.class) || parameter.getType() != Path.class) {
                    return null;
                }
            }
            List<Object[]> single = new ArrayList<>();
            single.add(new Object[method.getParameterCount()]);
            return single;
        }
        EnumSource enums = method.getAnnotation(EnumSource.class);
        if (enums != null && enums.names().length == 0 && method.getParameterCount() == 1) {
            Class<?> enumType = enums.value() == NullEnum.class
                    ? method.getParameterTypes()[0] : enums.value();
            return Arrays.stream(enumType.getEnumConstants()).map(constant -> new Object[] {constant}).toList();
        }
        ValueSource literals = method.getAnnotation(ValueSource.class);
        if (literals != null && method.getParameterCount() == 1) {
            List<Object> values = new ArrayList<>();
            Arrays.stream(literals.ints()).forEach(values::add);
            Arrays.stream(literals.longs()).forEach(values::add);
            Arrays.stream(literals.doubles()).forEach(values::add);
            values.addAll(List.of(literals.strings()));
            return values.stream().map(value -> new Object[] {value}).toList();
        }
        MethodSource source = method.getAnnotation(MethodSource.class);
        if (source == null || source.value().length != 1 || source.value()[0].contains("#")) {
            return null;
        }
        Method factory = factory(source.value()[0]);
        if (factory == null) {
            return null;
        }
        Object produced = factory.invoke(null);
        Stream<?> values = switch (produced) {
            case Stream<?> stream -> stream;
            case Iterable<?> iterable -> {
                List<Object> list = new ArrayList<>();
                iterable.forEach(list::add);
                yield list.stream();
            }
            case Object[] array -> Arrays.stream(array);
            default -> null;
        };
        if (values == null) {
            return null;
        }
        return values.map(value -> value instanceof Arguments arguments ? arguments.get() : new Object[] {value}).toList();
    }

    /** The factory JUnit would find: the lowest class of the hierarchy that declares it wins, as a hiding static method does. */
    private Method factory(String name) {
        for (Class<?> c = type; c != Object.class; c = c.getSuperclass()) {
            for (Method method : c.getDeclaredMethods()) {
                if (method.getName().equals(name) && method.getParameterCount() == 0
                        && Modifier.isStatic(method.getModifiers())) {
                    method.setAccessible(true);
                    return method;
                }
            }
        }
        return null;
    }

    /** One invocation on a new instance, after the {@code @BeforeEach} methods; the failure, or null. */
    private Throwable invoke(Method method, Object[] arguments) throws ReflectiveOperationException {
        var constructor = type.getDeclaredConstructor();
        constructor.setAccessible(true);
        Object instance = constructor.newInstance();
        List<Path> temporary = new ArrayList<>();
        try {
            for (int i = 0; i < arguments.length; i++) {
                if (method.getParameters()[i].isAnnotationPresent(TempDir.class)) {
                    Path directory = Files.createTempDirectory("fake-suite");
                    temporary.add(directory);
                    arguments[i] = directory;
                }
            }
            for (Method before : beforeEach) {
                before.invoke(instance);
            }
            method.invoke(instance, arguments);
            return null;
        } catch (InvocationTargetException e) {
            return e.getCause();
        } catch (IOException e) {
            return e;
        } finally {
            temporary.forEach(SuiteRunner::delete);
        }
    }

    private static void delete(Path directory) {
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        } catch (IOException e) {
            System.out.println("could not delete " + directory + ": " + e);
        }
    }
}
