package io.kvconnect.redis;

import io.kvconnect.api.common.BlockHash;
import java.lang.System.Logger.Level;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Logs the first failed command of each kind and direction, and the first value refused for each
 * reason ({@link #refused}), once per connector side: the error
 * counters say how many failed, this says why (an "other" error is otherwise a number with no
 * cause). Later failures of the same kind are only counted, so a Redis that is down does not
 * flood the log. Error messages come from the client and carry no credentials (the password is
 * never part of a command's text). Thread-safe: called from the scheduler and worker threads.
 */
final class FirstErrors {
    private static final System.Logger LOG = System.getLogger(FirstErrors.class.getName());

    private final String side;
    private final Set<String> seen = ConcurrentHashMap.newKeySet();

    /** @param side the connector side, for the log line, such as {@code "worker 1"} */
    FirstErrors(String side) {
        this.side = side;
    }

    /**
     * Counts nothing; logs {@code error} if it is the first of its kind for {@code what}.
     *
     * @param what the operation, such as {@code "store"}
     * @param error the failure
     * @return the error's kind, for the counter's name
     */
    RedisStore.ErrorKind note(String what, Throwable error) {
        RedisStore.ErrorKind kind = RedisStore.ErrorKind.of(error);
        if (seen.add(what + '/' + kind)) {
            LOG.log(
                    Level.WARNING,
                    "redis {0}: first {1} error ({2}); further ones are only counted: {3}",
                    side,
                    what,
                    kind.counter(),
                    String.valueOf(rootCause(error)));
        }
        return kind;
    }

    /**
     * Counts nothing; logs a refused value if it is the first refused for that reason, naming the
     * block (block hashes carry no prompt: they are one-way).
     *
     * @return the refusal's name, for the counter's name
     */
    String refused(BlockValue.Refusal refusal, BlockHash block) {
        String name = refusal.name().toLowerCase(java.util.Locale.ROOT);
        if (seen.add("refused/" + name)) {
            LOG.log(
                    Level.WARNING,
                    "redis {0}: first value refused as {1} (block {2}), removed and recomputed; further"
                            + " ones are only counted (load_refused_{1})",
                    side,
                    name,
                    block);
        }
        return name;
    }

    private static Throwable rootCause(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c;
    }
}
