package io.kvconnect.testkit;

import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.core.engine.Engine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Ends a scenario whose engine stopped making progress, naming the requests that are stuck, so a
 * broken connector (a receive that never comes, pending work that never ends) fails the kit in
 * bounded time instead of running it until a step limit. Progress is any change in the tokens
 * known or computed of the engine's unfinished requests, or a request finishing; the guard fails
 * once none happened for {@link #STALL} of wall time, far beyond the engine's connector timeout in
 * the kit, and also after {@link #MAX_STEPS} steps in all. The kit's thread only.
 */
final class StallGuard {
    /** Wall time without progress after which a scenario fails: 20 times the kit's connector timeout. */
    static final Duration STALL = Duration.ofSeconds(10);
    /** Steps of one engine after which a scenario fails even if it progresses. */
    static final int MAX_STEPS = 200_000;

    private final Engine engine;
    private long steps;
    private long lastSignature = Long.MIN_VALUE;
    private long lastProgressNanos = System.nanoTime();
    private long stepsSinceProgress;

    StallGuard(Engine engine) {
        this.engine = engine;
    }

    /** Runs steps until the engine has no more work. */
    void drain() throws InterruptedException {
        while (engine.hasWork()) {
            step();
        }
    }

    /** Runs one engine step and checks progress. */
    void step() throws InterruptedException {
        engine.step();
        afterStep();
    }

    /**
     * Checks progress after a step someone else ran.
     *
     * @throws IllegalStateException naming the stuck requests when no progress was made for {@link
     *     #STALL}, or when the engine ran {@link #MAX_STEPS} steps
     */
    void afterStep() {
        steps++;
        if (steps > MAX_STEPS) {
            throw new IllegalStateException("the engine ran " + MAX_STEPS + " steps without finishing its work; "
                    + "requests left: " + describeRequests());
        }
        long signature = signature();
        long now = System.nanoTime();
        if (signature != lastSignature) {
            lastSignature = signature;
            lastProgressNanos = now;
            stepsSinceProgress = 0;
            return;
        }
        stepsSinceProgress++;
        if (now - lastProgressNanos > STALL.toNanos()) {
            throw new IllegalStateException("no request made progress for " + STALL.toSeconds() + " s ("
                    + stepsSinceProgress + " steps): stuck: " + describeRequests()
                    + (engine.scheduler().hasRequests()
                            ? ""
                            : " (no request left: the connector reports pending work that never ends)"));
        }
    }

    private long signature() {
        long s = engine.metrics().outputs().size() * 1_000_003L
                + engine.metrics().failures().size() * 7_919L;
        var view = engine.scheduler().view();
        for (RequestView r : view.runningRequests()) {
            s = s * 31 + r.numTokens() * 131L + r.numComputedTokens();
        }
        for (RequestView r : view.waitingRequests()) {
            s = s * 37 + r.numTokens() * 131L + r.numComputedTokens();
        }
        return s;
    }

    private String describeRequests() {
        List<String> out = new ArrayList<>();
        for (var r : engine.scheduler().view().knownRequests().values()) {
            out.add(r.toString());
            if (out.size() == 8) {
                out.add("...");
                break;
            }
        }
        return out.isEmpty() ? "none" : String.join(", ", out);
    }
}
