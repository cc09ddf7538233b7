package io.kvconnect.api.worker;

import io.kvconnect.api.Stability;
import java.io.Serial;
import org.jspecify.annotations.Nullable;

/** A block copy failed; the blocks it names hold undefined content. */
@Stability(value = Stability.Level.STABLE, since = "0.1")
public final class CopyFailedException extends Exception {
    @Serial
    private static final long serialVersionUID = 1L;

    /**
     * Reports a failed copy.
     *
     * @param message what failed
     * @param cause the underlying error, or null
     */
    public CopyFailedException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
