/**
 * Publishing the engine's KV events outside the process, for a cache-aware router: one JSON line
 * per step, written by a thread of its own to a file or a TCP socket ({@code docs/engine.md}, KV
 * events). The engine's step never waits for it.
 */
@NullMarked
package io.kvconnect.core.events;

import org.jspecify.annotations.NullMarked;
