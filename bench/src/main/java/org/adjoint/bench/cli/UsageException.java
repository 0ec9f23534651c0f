package org.adjoint.bench.cli;

import java.io.Serial;

/** A command line that cannot be run as written; the message names the offending word. */
final class UsageException extends RuntimeException {

    @Serial
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }
}
