package io.kvconnect.core.workload;

import io.kvconnect.api.common.ConfigException;

/**
 * A line of a trace file, for error messages: the file as the operator named it and the line
 * number. Messages built here point at a column and never quote the line, so a trace path that
 * names some other file (a key, a password file) reveals nothing of its content.
 *
 * @param file the trace file, as given
 * @param line the line number, from 1
 */
record TraceSpot(String file, int line) {
    /**
     * A problem at {@code column} (from 1) of this line: its path is {@code FILE:LINE:COLUMN}.
     *
     * @param problem what is wrong and what is allowed, in the reader's words only
     */
    ConfigException error(int column, String problem) {
        return new ConfigException(file + ":" + line + ":" + column, problem);
    }
}
