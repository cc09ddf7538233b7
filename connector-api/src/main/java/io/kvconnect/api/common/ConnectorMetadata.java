package io.kvconnect.api.common;

import io.kvconnect.api.Stability;

/**
 * What a connector's scheduler side tells its worker sides for one engine step.
 *
 * <p>Built once per step by {@code SchedulerConnector.buildConnectorMetadata} on the scheduler
 * thread and handed, as the same object, to every worker's {@code handlePreemptions} and
 * {@code bindConnectorMetadata}. Workers run on other threads, so an implementation must be
 * immutable (a record of immutable collections is the usual shape) and must not share mutable
 * state with the scheduler side. Each connector defines its own implementation and casts to it on
 * the worker side; the engine never inspects it. {@link #NONE} serves connectors with nothing to
 * say.
 */
@Stability(value = Stability.Level.STABLE, since = "0.1")
public interface ConnectorMetadata {
    /** Metadata that carries nothing. */
    ConnectorMetadata NONE = new ConnectorMetadata() {
        @Override
        public String toString() {
            return "ConnectorMetadata.NONE";
        }
    };
}
