/**
 * A sample kvconnect connector plugin that moves KV: the "disk-tier" connector, which keeps KV
 * blocks in files and loads them back on a prefix hit, across engine restarts.
 *
 * <p>Like every plugin it needs only the connector API, provides a {@link
 * io.kvconnect.api.ConnectorProvider} and exports nothing: the engine reaches it through the
 * service alone.
 */
module com.example.disktier {
    requires kvconnect.api;

    provides io.kvconnect.api.ConnectorProvider with com.example.disktier.DiskTierConnectorProvider;
}
