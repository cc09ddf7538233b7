/**
 * The engine's own commands: the picocli root command ({@code Main}), {@code run} (the main job on
 * an embedded default or a configuration file, optionally beside a run without the connector) and {@code
 * connectors} (what discovery finds), and the options they share.
 *
 * <p>The launcher's command line ({@code kvconnect.tools}) adds its commands to this root and is the
 * only other module that may use this package. Depends on the configuration, plugins and run packages; nothing in
 * the engine depends on it.
 */
package io.kvconnect.core.cli;
