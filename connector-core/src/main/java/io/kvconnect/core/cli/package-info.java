/**
 * The engine's command-line root: the picocli root command ({@code Main}), the engine's own
 * command {@code connectors} (what discovery finds), and the options every command shares ({@code
 * EngineOptions}: the configuration file and the plugins directory).
 *
 * <p>The launcher's command line ({@code kvconnect.tools}) adds its commands to this root, the main
 * job {@code run} among them, and is the only other module that may use this package. Depends on
 * the configuration and plugins packages; nothing in the engine depends on it.
 */
@NullMarked
package io.kvconnect.core.cli;

import org.jspecify.annotations.NullMarked;
