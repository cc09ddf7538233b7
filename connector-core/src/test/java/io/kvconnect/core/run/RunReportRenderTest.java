package io.kvconnect.core.run;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The side-by-side report keeps its columns aligned, long keys (nested connector stats) included. */
class RunReportRenderTest {
    @Test
    void everyRowEndsAtTheSameColumnEvenWithAKeyLongerThanItsColumn() {
        Map<String, Object> stats = new LinkedHashMap<>();
        stats.put("short", 1);
        stats.put("stat: faults_injected_truncate", 123456); // 2 characters wider than the key column
        RunReport with = new RunReport("connector offload", Map.of("connector", stats), Map.of());
        RunReport without = new RunReport("baseline", Map.of("connector", Map.of("short", 2)), Map.of());

        List<String> rows = RunReport.render(List.of(with, without))
                .lines()
                .skip(1) // the header of labels
                .filter(l -> l.startsWith("  "))
                .toList();

        assertEquals(2, rows.size());
        assertEquals(rows.get(0).length(), rows.get(1).length(), String.join("\n", rows));
        assertEquals(true, rows.get(1).contains(" 123456"), rows.get(1));
    }
}
