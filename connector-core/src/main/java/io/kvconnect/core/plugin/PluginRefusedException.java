package io.kvconnect.core.plugin;

import java.io.Serial;

/** A plugin was refused before or while its layer was built; the message says why. */
final class PluginRefusedException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    PluginRefusedException(String message) {
        super(message);
    }
}
