/**
 * The engine's JSON configuration: the reader that validates a file into one {@link
 * io.kvconnect.core.config.EngineConfig} (unknown keys and bad values are errors naming the field),
 * the connector it selects, and model presets.
 *
 * <p>Used by the command line and by engine construction; depends on the API's {@code common}
 * package and Jackson, nothing else of the engine.
 */
@NullMarked
package io.kvconnect.core.config;

import org.jspecify.annotations.NullMarked;
