/**
 * What a connector's two sides and the engine share: configuration ({@link
 * io.kvconnect.api.common.ConnectorConfig}), the engine's shape ({@link
 * io.kvconnect.api.common.EngineInfo}), block identifiers and hashes, the metadata passed from the
 * scheduler side to the workers and back, transfer parameters, stats and KV events.
 *
 * <p>Values only: immutable records and small final classes, safe to pass between threads. Depends
 * on nothing but {@code java.base}; every other API package may depend on it.
 */
package io.kvconnect.api.common;
