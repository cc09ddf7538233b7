/**
 * A sample kvconnect connector plugin: the "hello" prefix-audit connector.
 *
 * <p>Like every plugin it needs only the connector API, provides a {@link
 * io.kvconnect.api.ConnectorProvider} and exports nothing: the engine reaches it through the
 * service alone.
 */
module com.example.hello {
    requires kvconnect.api;

    provides io.kvconnect.api.ConnectorProvider with com.example.hello.HelloConnectorProvider;
}
