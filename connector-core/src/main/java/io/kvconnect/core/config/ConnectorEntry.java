package io.kvconnect.core.config;

import io.kvconnect.api.common.ConnectorConfig;

/**
 * The connector a configuration selects.
 *
 * @param name the connector's registered name
 * @param config its own configuration, handed to its provider as is
 * @param path where the entry sits in the file, for messages
 */
public record ConnectorEntry(String name, ConnectorConfig config, String path) {}
