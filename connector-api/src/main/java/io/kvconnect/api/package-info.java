/**
 * The connector SPI's entry points: {@link io.kvconnect.api.ConnectorProvider}, found by {@link
 * java.util.ServiceLoader}, which creates a connector's scheduler side and worker side from the
 * contexts the engine gives it, and {@link io.kvconnect.api.ConnectorCatalog}, through which a
 * composite connector finds its children.
 *
 * <p>Every connector depends on this package; it depends on {@code scheduler}, {@code worker} and
 * {@code common}, never the other way.
 */
package io.kvconnect.api;
