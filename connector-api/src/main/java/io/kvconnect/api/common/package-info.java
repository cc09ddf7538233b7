/**
 * What a connector's two sides and the engine share.
 *
 * <p><b>What is here.</b> The connector's configuration ({@link
 * io.kvconnect.api.common.ConnectorConfig}, {@link io.kvconnect.api.common.ConfigException}); the
 * engine's and the model's shape ({@link io.kvconnect.api.common.EngineInfo}, {@link
 * io.kvconnect.api.common.ModelShape}, {@link io.kvconnect.api.common.DType}); block identifiers
 * ({@link io.kvconnect.api.common.BlockIds}, {@link io.kvconnect.api.common.BlockHash}); the
 * metadata a connector passes between its sides ({@link io.kvconnect.api.common.ConnectorMetadata}
 * from the scheduler side to the workers, {@link io.kvconnect.api.common.WorkerMetadata} back each
 * step, {@link io.kvconnect.api.common.HandshakeMetadata} back once at start); the workers' output
 * as the scheduler side sees it ({@link io.kvconnect.api.common.ConnectorOutput}); transfer
 * parameters between engines ({@link io.kvconnect.api.common.TransferParams}); stats ({@link
 * io.kvconnect.api.common.ConnectorStats}, {@link io.kvconnect.api.common.CounterStats}) and KV
 * events ({@link io.kvconnect.api.common.KvEvent}, {@link io.kvconnect.api.common.StorageMedium}).
 *
 * <p><b>Who implements and who calls.</b> The engine implements {@code ConnectorConfig} and builds
 * {@code EngineInfo}, {@code BlockIds} and {@code ConnectorOutput}; connectors read them. A
 * connector implements the metadata interfaces and {@code ConnectorStats} (or uses {@code
 * CounterStats}) with its own immutable types, and builds the records and events it reports; the
 * engine only carries and aggregates them.
 *
 * <p>Values only: immutable records, small final classes and interfaces whose implementations must
 * be immutable, so everything here is safe to pass between threads. Depends on nothing but {@code
 * java.base} (and the root package's {@code @Stability}); every other API package may depend on it.
 */
@NullMarked
package io.kvconnect.api.common;

import org.jspecify.annotations.NullMarked;
