package io.kvconnect.core.sched;

/**
 * What became of a request's held outputs (see {@link HeldOutputs}): released to the client, the
 * prefix cache and connectors ({@code used}), or dropped.
 *
 * @param requestId the request
 * @param used whether the held outputs were used
 */
public record HoldResolution(String requestId, boolean used) {}
