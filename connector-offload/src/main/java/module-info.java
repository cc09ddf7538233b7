/**
 * Connector plugin: host-memory offload tier.
 *
 * <p>Like every plugin module it requires the connector API only and exports nothing. Its
 * connector, and with it the {@code provides io.kvconnect.api.ConnectorProvider} clause and the
 * {@code META-INF/services} entry, is built in issue 4; until then the module is empty on
 * purpose rather than carrying a provider that does nothing.
 */
module kvconnect.offload {
    requires kvconnect.api;
}
