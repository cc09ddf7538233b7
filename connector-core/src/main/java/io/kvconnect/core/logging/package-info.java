/**
 * Logging helpers the engine needs beyond SLF4J: a rate limit per kind of line, so a plugin or a
 * peer that fails on every step fills no disk. Any engine package may depend on it.
 */
@NullMarked
package io.kvconnect.core.logging;

import org.jspecify.annotations.NullMarked;
