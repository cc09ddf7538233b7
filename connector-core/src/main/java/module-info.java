/**
 * The kvconnect host engine: connector discovery and plugin layers, configuration and the command
 * line (the engine proper follows).
 *
 * <p>Exports nothing. Connectors reach the engine only through {@code kvconnect.api}; plugins
 * loaded from the plugins directory live in module layers of their own and cannot read or reflect
 * into any package of this module.
 */
module kvconnect.core {
    requires kvconnect.api;
    requires org.slf4j;
    requires com.fasterxml.jackson.databind;
    requires info.picocli;
    requires io.github.classgraph;

    uses io.kvconnect.api.ConnectorProvider;

    // picocli builds the commands from their annotations by reflection.
    opens io.kvconnect.core.cli to info.picocli;
}
