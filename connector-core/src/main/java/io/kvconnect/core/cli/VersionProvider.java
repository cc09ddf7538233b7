package io.kvconnect.core.cli;

import picocli.CommandLine.IVersionProvider;

/** Reports the engine's version from its module descriptor (or "development" when run from classes). */
final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String version = Main.class.getModule().getDescriptor() == null
                ? null
                : Main.class.getModule().getDescriptor().rawVersion().orElse(null);
        return new String[] {"kvconnect " + (version == null ? "development" : version), "Java " + Runtime.version()};
    }
}
