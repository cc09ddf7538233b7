/**
 * Finding connectors: providers on the module path, on the class path and in the plugins directory,
 * each plugin inspected before loading and given a module layer of its own whose parent exposes
 * only the connector API, SLF4J and the JDK (restricted JDK modules only to trusted plugins).
 *
 * <p>Start-up only, on the thread that builds the engine. Depends on the API and ClassGraph; the
 * rest of the engine uses its {@link io.kvconnect.core.plugin.ConnectorRegistry}.
 */
@NullMarked
package io.kvconnect.core.plugin;

import org.jspecify.annotations.NullMarked;
