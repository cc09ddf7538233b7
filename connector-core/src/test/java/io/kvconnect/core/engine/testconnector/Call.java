package io.kvconnect.core.engine.testconnector;

/**
 * One hook call recorded by a {@link HostCacheTestConnector}.
 *
 * @param seq order of the call over both sides
 * @param side {@code "S"} for the scheduler side, {@code "W<rank>"} for a worker side
 * @param hook the hook (or a sub-event such as {@code "updateConnectorOutput.received"})
 * @param requestId the request it concerns, or {@code ""}
 * @param value a hook-specific number (external tokens, block id, status ordinal), or 0
 */
public record Call(long seq, String side, String hook, String requestId, long value) {
    @Override
    public String toString() {
        return seq + ":" + side + ":" + hook + (requestId.isEmpty() ? "" : "(" + requestId + ")")
                + (value == 0 ? "" : "=" + value);
    }
}
