package io.kvconnect.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The engine processes disagg starts get the engine's JVM options and JCuda's library folder. */
class DisaggChildOptionsTest {
    @Test
    void childEnginesGetTheEngineOptionsAndThisJvmsLibraryPath() {
        List<String> options = DisaggCommand.childJvmOptions("/opt/kvconnect/natives");

        assertTrue(options.containsAll(EngineJvmOptions.options()), options::toString);
        assertTrue(options.contains("-Djava.library.path=/opt/kvconnect/natives"), options::toString);
    }

    @Test
    void withoutALibraryPathOnlyTheEngineOptions() {
        assertEquals(EngineJvmOptions.options(), DisaggCommand.childJvmOptions(null));
        assertEquals(EngineJvmOptions.options(), DisaggCommand.childJvmOptions(" "));
    }
}
