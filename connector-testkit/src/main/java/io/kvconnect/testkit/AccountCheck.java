package io.kvconnect.testkit;

import io.kvconnect.api.common.ConnectorStats;
import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.memory.CopyFaults;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Compares what a connector says it did with what the engine saw it do, after a drained run:
 *
 * <ul>
 *   <li>its {@value #HIT_TOKENS} counter, if it reports one, equals the external tokens the engine
 *       granted (a hit counted per lookup, or for a load the engine never granted, is a lie);
 *   <li>its {@value #STORED_BLOCKS} counter, if it reports one, is at most the engine blocks its
 *       workers copied out of the GPU cache (per worker);
 *   <li>its stored-block KV events name only blocks the engine hashed, and announce no more engine
 *       blocks than its workers copied out (an event for a store that failed, or was never made,
 *       misleads every index built on the events).
 * </ul>
 *
 * <p>The counters are read from the engine's aggregate of the connector's stats under these exact
 * names; a connector that names them otherwise (a composite prefixes its children's) is checked
 * on its events only.
 */
final class AccountCheck {
    /** The counter of external tokens the connector served. */
    static final String HIT_TOKENS = "hit_tokens";
    /** The counter of engine blocks the connector stored. */
    static final String STORED_BLOCKS = "stored_blocks";

    private AccountCheck() {}

    static List<String> problems(Engine engine, CountingSchedulerConnector counting) {
        List<String> problems = new ArrayList<>();
        Map<String, Number> stats =
                engine.metrics().connectorStats().map(ConnectorStats::summary).orElse(Map.of());
        long copiedOut = engine.executor().blocksCopied(CopyFaults.Direction.TO_HOST)
                / engine.setup().config().workers();
        Number hits = stats.get(HIT_TOKENS);
        if (hits != null && hits.longValue() != counting.totalGrantedTokens()) {
            problems.add("the connector's " + HIT_TOKENS + " counter says " + hits.longValue()
                    + " but the engine granted it " + counting.totalGrantedTokens()
                    + " external tokens (count a hit when updateStateAfterAlloc grants it, once)");
        }
        Number stored = stats.get(STORED_BLOCKS);
        if (stored != null && stored.longValue() > copiedOut) {
            problems.add("the connector's " + STORED_BLOCKS + " counter says " + stored.longValue()
                    + " but its workers copied only " + copiedOut + " block(s) out of the GPU cache");
        }
        if (counting.storedEventBlocks() > copiedOut) {
            problems.add("the connector's KV events announced " + counting.storedEventBlocks()
                    + " stored block(s) but its workers copied only " + copiedOut
                    + " out of the GPU cache (an event for a store that failed or never ran?)");
        }
        if (!counting.unknownStoredHashes().isEmpty()) {
            problems.add("the connector's KV events announced "
                    + counting.unknownStoredHashes().size()
                    + " stored block(s) whose hash the engine never computed, such as "
                    + counting.unknownStoredHashes().iterator().next());
        }
        return problems;
    }
}
