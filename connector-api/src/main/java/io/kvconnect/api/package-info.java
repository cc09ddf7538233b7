/**
 * The connector SPI's entry points and the one stability marker.
 *
 * <p><b>What is here.</b> {@link io.kvconnect.api.ConnectorProvider}, which creates a connector's
 * scheduler side and worker sides; the contexts the engine gives it ({@link
 * io.kvconnect.api.SchedulerContext}, {@link io.kvconnect.api.WorkerContext}, their common {@link
 * io.kvconnect.api.ConnectorContext}); {@link io.kvconnect.api.ConnectorCatalog}, through which a
 * composite connector finds its children by name; and {@link io.kvconnect.api.Stability}, which
 * marks every API type with how far it may be relied on and since which version.
 *
 * <p><b>Who implements and who calls.</b> A connector plugin implements {@code ConnectorProvider}
 * (one public class with a no-argument constructor, declared with {@code provides} in its module
 * and in {@code META-INF/services}); the engine finds it with {@link java.util.ServiceLoader} and
 * calls it. The engine implements the contexts and the catalog; connectors only call them.
 *
 * <p><b>Dependencies.</b> This package depends on {@code scheduler}, {@code worker} and {@code
 * common}; they depend on it only for the {@code @Stability} annotation.
 */
@NullMarked
package io.kvconnect.api;

import org.jspecify.annotations.NullMarked;
