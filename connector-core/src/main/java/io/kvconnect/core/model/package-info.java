/**
 * The verifying model that stands in for a transformer: pure functions from a token prefix to KV
 * content and next token, a per-worker runner that reads and writes KV through the same memory the
 * connectors copy, so any wrong, stale or overwritten block is found and classified, and the
 * modelled cost of a forward pass.
 *
 * <p>Workers call it on their own threads; it depends on the engine's KV memory and on nothing that
 * schedules.
 */
@NullMarked
package io.kvconnect.core.model;

import org.jspecify.annotations.NullMarked;
