/**
 * Connector plugin: composition of connectors from configuration (connector name {@code multi}).
 *
 * <p>The configuration lists child connectors in priority order, each with its own full
 * configuration; the children are found by name in the engine's catalog
 * ({@code ConnectorContext.catalog()}), so this module links none of them. Loads compose the
 * children's hits (each child loads its own run after the runs of the children before it), saves
 * go to every child, and metadata, stats, events and transfer parameters are kept per child. See {@code MultiConnectorProvider} for the configuration and
 * {@code MultiScheduler} / {@code MultiWorker} for the exact rules.
 *
 * <p>Like every plugin module it requires the connector API only and exports nothing.
 */
module kvconnect.multi {
    requires kvconnect.api;

    provides io.kvconnect.api.ConnectorProvider with
            io.kvconnect.multi.MultiConnectorProvider;
}
