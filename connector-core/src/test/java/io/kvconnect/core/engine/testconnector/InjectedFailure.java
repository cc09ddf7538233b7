package io.kvconnect.core.engine.testconnector;

import java.io.Serial;

/** The exception a {@link HostCacheTestConnector} throws where a test asked it to. */
public final class InjectedFailure extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    InjectedFailure(String hook, String requestId) {
        super("injected failure in " + hook + (requestId == null ? "" : " for " + requestId));
    }
}
