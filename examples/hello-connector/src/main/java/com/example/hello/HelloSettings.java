package com.example.hello;

import io.kvconnect.api.common.ConfigException;
import io.kvconnect.api.common.ConnectorConfig;
import java.util.Objects;

/**
 * The validated configuration of the {@code hello} connector.
 *
 * @param label the name shown in this connector's log lines
 */
record HelloSettings(String label) {
    static final String LABEL = "label";
    static final String DEFAULT_LABEL = "hello";

    HelloSettings {
        Objects.requireNonNull(label, LABEL);
    }

    /**
     * Reads and validates {@code config}.
     *
     * @throws ConfigException naming the field: an unknown (for example misspelt) key, a label that
     *     is not a string, or a blank label
     */
    static HelloSettings from(ConnectorConfig config) {
        Objects.requireNonNull(config, "config");
        config.requireOnlyKeys(LABEL);
        String label = config.getString(LABEL, DEFAULT_LABEL);
        if (label.isBlank()) {
            throw new ConfigException(config.fieldPath(LABEL), "must not be blank");
        }
        return new HelloSettings(label.strip());
    }
}
