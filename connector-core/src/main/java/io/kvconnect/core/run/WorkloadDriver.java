package io.kvconnect.core.run;

import io.kvconnect.core.engine.Engine;
import io.kvconnect.core.sched.RequestUpdate;
import io.kvconnect.core.sched.RequestUpdates;
import io.kvconnect.core.workload.ChatSession;
import io.kvconnect.core.workload.PromptBuilder;
import io.kvconnect.core.workload.Turn;
import io.kvconnect.core.workload.Workload;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.LongConsumer;

/**
 * Feeds a multi-turn chat workload to an engine in modelled time: a session's first turn arrives
 * at its arrival time, each follow-up turn a think time after the previous response, with the
 * whole conversation so far (system prompt, earlier turns and the model's answers) as its prompt.
 * So follow-up turns share long prefixes, which is what KV caching and connectors are for.
 */
public final class WorkloadDriver {
    private final Engine engine;
    private final Workload workload;

    /** A driver of {@code workload} through {@code engine}. */
    public WorkloadDriver(Engine engine, Workload workload) {
        this.engine = engine;
        this.workload = workload;
    }

    private record Arrival(double time, long order, int session, int turn) {}

    /**
     * Runs the workload to the end.
     *
     * @param progress told the number of finished turns after each step
     */
    public void run(LongConsumer progress) throws InterruptedException {
        PriorityQueue<Arrival> arrivals = new PriorityQueue<>((a, b) ->
                a.time() != b.time() ? Double.compare(a.time(), b.time()) : Long.compare(a.order(), b.order()));
        List<ChatSession> sessions = workload.sessions();
        List<List<int[]>> histories = new ArrayList<>();
        long order = 0;
        for (int s = 0; s < sessions.size(); s++) {
            histories.add(new ArrayList<>());
            ChatSession session = sessions.get(s);
            arrivals.add(new Arrival(
                    session.arrivalSeconds() + session.turns().getFirst().thinkSeconds(), order++, s, 0));
        }
        Map<String, Arrival> inFlight = new HashMap<>();
        long finished = 0;
        while (true) {
            while (!arrivals.isEmpty() && arrivals.peek().time() <= engine.now()) {
                Arrival a = arrivals.poll();
                ChatSession session = sessions.get(a.session());
                Turn turn = session.turns().get(a.turn());
                int[] prompt = PromptBuilder.build(
                        workload.systemPromptOf(session), histories.get(a.session()), turn.userTokens());
                String id = session.id() + "/" + a.turn();
                inFlight.put(id, a);
                engine.addRequest(id, prompt, turn.maxOutputTokens());
            }
            if (!engine.hasWork()) {
                if (arrivals.isEmpty()) {
                    break;
                }
                engine.advanceTo(arrivals.peek().time());
                continue;
            }
            RequestUpdates updates = engine.step();
            // By index: only finishes matter here, and a token read this way is no object.
            for (int i = 0; i < updates.size(); i++) {
                if (updates.isFinished(i)) {
                    RequestUpdate.Finished f = updates.finished(i);
                    Arrival a = inFlight.remove(f.requestId());
                    if (a == null) {
                        continue;
                    }
                    finished++;
                    ChatSession session = sessions.get(a.session());
                    List<int[]> history = histories.get(a.session());
                    history.add(session.turns().get(a.turn()).userTokens());
                    history.add(f.outputTokens());
                    int next = a.turn() + 1;
                    if (next < session.turns().size()) {
                        arrivals.add(new Arrival(
                                engine.now() + session.turns().get(next).thinkSeconds(), order++, a.session(), next));
                    }
                }
            }
            progress.accept(finished);
        }
    }
}
