package org.adjoint.cuda.internal;

import java.util.HashSet;
import java.util.Set;

/** Short descriptions of failures to load native code, for unavailability reasons and log lines. */
public final class NativeErrors {

    private static final String[] TELLING = {
        "cannot open shared object file", "undefined symbol", "version `", "wrong ELF class", "invalid ELF header",
        "file too short", "Cannot open library", "no symbol",
    };
    private static final String LINK_ERROR = UnsatisfiedLinkError.class.getName() + ": ";

    private NativeErrors() {
    }

    /**
     * One line that says why native code did not load. JCuda's {@link UnsatisfiedLinkError}s
     * hold whole nested stack traces; the line that names the missing file or symbol (for
     * example {@code libcublas.so.12: cannot open shared object file}) is the one worth
     * showing.
     *
     * @param error what was thrown
     * @return the telling line, else the first line of the message (of the error itself for a
     *         {@link LinkageError}, whose class says what failed)
     */
    public static String summary(Throwable error) {
        Set<Throwable> seen = new HashSet<>();
        for (Throwable t = error; t != null && seen.add(t); t = t.getCause()) {
            String message = t.getMessage();
            if (message == null) {
                continue;
            }
            String lastLinkError = null;
            for (String line : message.lines().toList()) {
                for (String telling : TELLING) {
                    if (line.contains(telling)) {
                        return stripClassName(line.strip());
                    }
                }
                if (line.startsWith(LINK_ERROR)) {
                    lastLinkError = line;
                }
            }
            // JCuda tries the library path first and its own copy last; the last attempt says most.
            if (lastLinkError != null) {
                return stripClassName(lastLinkError.strip());
            }
        }
        String whole = error instanceof LinkageError || error.getMessage() == null ? error.toString() : error.getMessage();
        return whole.lines().findFirst().orElse(error.getClass().getName()).strip();
    }

    private static String stripClassName(String line) {
        String marker = "Error: ";
        int at = line.indexOf(marker);
        if (at > 0 && line.substring(0, at).startsWith("java.")) {
            return line.substring(at + marker.length());
        }
        return line;
    }
}
