package io.kvconnect.nixl;

import io.kvconnect.api.common.TransferParams;
import io.kvconnect.nixl.faults.TransportFaults;
import io.kvconnect.testkit.KitEngine;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A disaggregation soak: many rounds, each a fresh prefill engine and decode engine joined by the
 * nixl-like connector (alone, or composed with an offload host tier in a {@code multi} on each
 * engine: see {@link Composition}) and a router driven by one thread, with a randomized stream of requests that
 * share prefixes, aborts at random points on both sides, a router that now and then loses a
 * finished prefill, a decode pool small enough to force preemptions, transport faults injected at
 * the configured rates on the producer's connections ({@link io.kvconnect.nixl.faults.FaultyTransport}) and jumps of the
 * producer's clock past its leases, and now and then the death of the prefill engine in the middle
 * of a round (its listeners and connections go away; the decode engine must end every load it
 * was given in bounded time). Rounds cycle through the transports (UCX where it works),
 * one and two workers and the compositions (with several, the decode engine runs the prefill
 * engine's composition in one cycle and the next one in the following cycle, so the two engines
 * also order their children differently); scheduling (synchronous or asynchronous) and the load
 * failure policy are drawn per round. The router forwards a finished prefill's transfer parameters
 * to the decode engine exactly as they came (nested under the child's key with a composite). The
 * model samples an end-of-sequence token now and then, so requests also stop early; in every other
 * round the decode engine's workers report failed loads one step late.
 *
 * <p>After every step each engine checks its invariants (an exception out of a step is a crash).
 * After each round both engines must have drained with nothing held ({@link KitEngine#problems()}:
 * no request, block or connector reference left, no wrong KV read used) and every offered send
 * finished (the producer freed each transfer by a notification or by lease expiry); every decode
 * request that finished normally must have exactly the output of one engine without a connector,
 * every aborted or failed one a prefix of it, a failed one with a reason. An exception escaping any
 * thread counts as a crash too.
 *
 * <p>Not thread-safe; {@link #run} blocks. The bound on a round's steps and wall time is there
 * only so a stuck round ends as a problem instead of hanging.
 */
final class DisaggSoak {
    private static final int MAX_STEPS_PER_ROUND = 2_000_000;
    private static final Duration MAX_ROUND_TIME = Duration.ofSeconds(120);
    private static final Duration LEASE = Duration.ofSeconds(30);
    private static final int MAX_PROBLEMS = 50;
    private static final int PREFILL_BLOCKS = 192;
    /** Requests stop early now and then, some while their blocks are being sent. */
    private static final double EOS_RATE = 0.1;

    /**
     * What to run.
     *
     * @param seed the seed of the request streams and fault decisions
     * @param rounds rounds to run (at least one)
     * @param duration when positive, keep running rounds until this much wall time has passed
     * @param requestsPerRound requests per round
     * @param faults transport fault rates injected on the producer's connections
     * @param clockJumpsPerRound at most this many jumps of the producer's clock past its leases per round
     * @param transports the transports to cycle through ({@code tcp}, {@code ucx})
     * @param producerDeathEvery every this many rounds (0: never) the prefill engine dies (is closed:
     *     its listeners and connections go away) at a random step, with transfers offered and loads
     *     running
     * @param compositions the connectors the engines run, cycled through (at least one; see the class comment)
     */
    record Settings(
            long seed,
            int rounds,
            Duration duration,
            int requestsPerRound,
            TransportFaults faults,
            int clockJumpsPerRound,
            List<String> transports,
            int producerDeathEvery,
            List<Composition> compositions) {
        /** Copies the lists; checks there is a composition. */
        Settings {
            transports = List.copyOf(transports);
            compositions = List.copyOf(compositions);
            if (compositions.isEmpty()) {
                throw new IllegalArgumentException("at least one composition");
            }
        }

        /** As the canonical constructor with nixl-like alone on each engine. */
        Settings(
                long seed,
                int rounds,
                Duration duration,
                int requestsPerRound,
                TransportFaults faults,
                int clockJumpsPerRound,
                List<String> transports,
                int producerDeathEvery) {
            this(
                    seed,
                    rounds,
                    duration,
                    requestsPerRound,
                    faults,
                    clockJumpsPerRound,
                    transports,
                    producerDeathEvery,
                    List.of(Composition.ALONE));
        }
    }

    /**
     * What the soak tried and what came of it.
     *
     * @param settings what ran
     * @param rounds rounds run
     * @param requests requests in the rounds' streams (each submitted to the prefill engine unless it
     *     died first)
     * @param finishedOk decode requests that finished normally with exactly the single-engine output
     * @param recomputed decode requests recomputed locally after a failed load or a preemption
     * @param loadFailures load failures the decode engine counted
     * @param leasesExpired producer leases that expired (clock jumps, lost forwards, lost notifications)
     * @param abortedPrefill requests aborted on the prefill engine (no transfer offered or forwarded)
     * @param abortedDecode requests aborted on the decode engine (output a prefix of the single-engine one)
     * @param failed requests failed with a reason (output a prefix)
     * @param notForwarded finished prefills the router lost on purpose (freed by lease expiry)
     * @param lostWithProducer requests the prefill engine had not finished when it died (never
     *     submitted or still prefilling), so the router had nothing to forward
     * @param faultsInjected faults by kind: transport faults ({@code drop}, ...), {@code clock_jump}
     * @param offloadStats the offload children's counters summed over both engines and every round
     *     ({@code stored_blocks}, {@code hit_blocks}, ...; empty without a composite)
     * @param leakRounds rounds after which something was still held or an offered send not finished
     * @param crashes exceptions out of an engine step or escaping a thread (must be zero)
     * @param problems what went wrong (at most the first 50)
     */
    record Report(
            Settings settings,
            int rounds,
            long requests,
            long finishedOk,
            long recomputed,
            long loadFailures,
            long leasesExpired,
            long abortedPrefill,
            long abortedDecode,
            long failed,
            long notForwarded,
            long lostWithProducer,
            Map<String, Long> faultsInjected,
            Map<String, Long> offloadStats,
            int leakRounds,
            int crashes,
            List<String> problems) {
        /** Whether nothing went wrong. */
        boolean passed() {
            return problems.isEmpty() && leakRounds == 0 && crashes == 0;
        }

        /** Throws {@link AssertionError} with {@link #render()} unless {@link #passed()}. */
        void assertPassed() {
            if (!passed()) {
                throw new AssertionError("the disaggregation soak found problems:\n" + render());
            }
        }

        /** A plain-text report, one fact per line. */
        String render() {
            List<String> lines = new ArrayList<>();
            lines.add("disaggregation soak of "
                    + settings.compositions().stream().map(Composition::name).toList()
                    + " over " + settings.transports() + ", faults " + settings.faults()
                    + ", up to " + settings.clockJumpsPerRound() + " clock jump(s) per round");
            lines.add(String.format(
                    Locale.ROOT,
                    "  rounds %d, requests %d: %d finished with the single-engine output "
                            + "(%d recomputed locally, %d load failures), %d aborted on prefill, %d aborted on decode, "
                            + "%d failed with a reason, %d lost by the router, %d lost with a dead prefill engine",
                    rounds,
                    requests,
                    finishedOk,
                    recomputed,
                    loadFailures,
                    abortedPrefill,
                    abortedDecode,
                    failed,
                    notForwarded,
                    lostWithProducer));
            long total =
                    faultsInjected.values().stream().mapToLong(Long::longValue).sum();
            lines.add("  faults injected: " + total + " " + new TreeMap<>(faultsInjected) + "; leases expired: "
                    + leasesExpired);
            if (!offloadStats.isEmpty()) {
                lines.add("  offload children (both engines): " + new TreeMap<>(offloadStats));
            }
            lines.add("  rounds that leaked blocks or left requests: " + leakRounds + "; crashes: " + crashes);
            lines.add(passed() ? "  result: PASSED" : "  result: FAILED (" + problems.size() + " problem(s))");
            problems.forEach(p -> lines.add("  - " + p));
            return String.join("\n", lines);
        }
    }

    private final Settings settings;
    private final List<String> problems = new ArrayList<>();
    private final Map<String, Long> faults = new TreeMap<>();
    private final Map<String, Long> offloadStats = new TreeMap<>();
    private final AtomicLong uncaught = new AtomicLong();
    private long requests;
    private long finishedOk;
    private long recomputed;
    private long loadFailures;
    private long leasesExpired;
    private long abortedPrefill;
    private long abortedDecode;
    private long failed;
    private long notForwarded;
    private long lostWithProducer;
    private int leakRounds;
    private int crashes;

    private DisaggSoak(Settings settings) {
        this.settings = settings;
    }

    /** Runs the soak and reports. */
    static Report run(Settings settings) {
        return new DisaggSoak(settings).runAll();
    }

    private Report runAll() {
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        // Every thread of both engines (readers, relays, listeners) lands here if it throws.
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> {
            uncaught.incrementAndGet();
            problem("uncaught exception in thread " + t.getName() + ": " + e);
        });
        long end = settings.duration().isPositive()
                ? System.nanoTime() + settings.duration().toNanos()
                : 0;
        int round = 0;
        try {
            while (round < settings.rounds() || (end != 0 && System.nanoTime() < end)) {
                runRound(round);
                round++;
            }
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(previous);
        }
        return new Report(
                settings,
                round,
                requests,
                finishedOk,
                recomputed,
                loadFailures,
                leasesExpired,
                abortedPrefill,
                abortedDecode,
                failed,
                notForwarded,
                lostWithProducer,
                faults,
                offloadStats,
                leakRounds,
                crashes + (int) uncaught.get(),
                problems);
    }

    private synchronized void problem(String p) {
        if (problems.size() < MAX_PROBLEMS) {
            problems.add(p);
        }
    }

    /** One request of a round and what the stream does to it. */
    private static final class Req {
        final String id;
        final int[] prompt;
        final int maxTokens;
        final int submitAt;
        /** Steps after submission at which the router aborts it on the prefill engine, or -1. */
        final int abortPrefillAfter;
        /** Whether the router loses its finished prefill. */
        final boolean lose;
        /** Steps the router holds its finished prefill back before forwarding. */
        final int forwardDelay;
        /** Steps after forwarding at which it is aborted on the decode engine, or -1. */
        final int abortDecodeAfter;

        int forwardedAt = -1;
        boolean abortedOnPrefill;
        boolean abortedOnDecode;

        Req(
                String id,
                int[] prompt,
                int maxTokens,
                int submitAt,
                int abortPrefillAfter,
                boolean lose,
                int forwardDelay,
                int abortDecodeAfter) {
            this.id = id;
            this.prompt = prompt;
            this.maxTokens = maxTokens;
            this.submitAt = submitAt;
            this.abortPrefillAfter = abortPrefillAfter;
            this.lose = lose;
            this.forwardDelay = forwardDelay;
            this.abortDecodeAfter = abortDecodeAfter;
        }
    }

    private void runRound(int round) {
        var random = new SplittableRandom(settings.seed() * 1_000_003L + round);
        List<String> transports = settings.transports();
        String transport = transports.get(round % transports.size());
        int workers = 1 + (round / transports.size()) % 2;
        List<Composition> compositions = settings.compositions();
        int cycle = round / (2 * transports.size());
        Composition composition = compositions.get(cycle % compositions.size());
        Composition decodeComposition = compositions.get((cycle + cycle / compositions.size()) % compositions.size());
        boolean async = random.nextBoolean();
        boolean recompute = random.nextInt(4) != 0;
        int decodeBlocks = 18 + random.nextInt(14);
        String tag = String.format(
                Locale.ROOT,
                "round %d (%s, %s, %d worker(s), %s, %s, %d decode blocks)",
                round,
                composition.name() + (decodeComposition == composition ? "" : " -> " + decodeComposition.name()),
                transport,
                workers,
                async ? "async" : "sync",
                recompute ? "recompute" : "fail",
                decodeBlocks);

        List<Req> reqs = stream(random, round);
        requests += reqs.size();
        Map<String, int[]> expected;
        try {
            expected = baseline(reqs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        int[] jumps = new int[random.nextInt(settings.clockJumpsPerRound() + 1)];
        for (int i = 0; i < jumps.length; i++) {
            jumps[i] = random.nextInt(200);
        }

        // The prefill engine dies at this step (never: -1), with transfers offered and loads running.
        int every = settings.producerDeathEvery();
        int deathAt = every > 0 && round % every == every - 1 ? 20 + random.nextInt(100) : -1;
        boolean dead = false;
        var clock = new MutableClock();
        var f = settings.faults();
        Map<String, Object> faultMap = Map.of(
                "drop",
                f.drop(),
                "truncate",
                f.truncate(),
                "delay",
                f.delay(),
                "delay_ms",
                (long) f.delayMillis(),
                "kill",
                f.kill(),
                "seed",
                random.nextLong());
        KitEngine prefill = null;
        KitEngine decode = null;
        Map<String, KitEngine.Finished> prefillDone = new LinkedHashMap<>();
        Map<String, KitEngine.Finished> decodeDone = new LinkedHashMap<>();
        Map<String, Req> byId = new LinkedHashMap<>();
        reqs.forEach(r -> byId.put(r.id, r));
        ArrayDeque<Req> toForward = new ArrayDeque<>();
        boolean crashed = false;
        try {
            prefill = composition.engine(
                    Disagg.config(
                            "producer",
                            "transport",
                            transport,
                            "lease_timeout",
                            LEASE.toSeconds() + "s",
                            "faults",
                            faultMap),
                    KitEngine.Options.defaults("prefill")
                            .withWorkers(workers)
                            .withAsyncScheduling(async)
                            .withGpuBlocks(PREFILL_BLOCKS)
                            .withClock(clock)
                            .withEosRate(EOS_RATE));
            // Short timeouts: a dropped frame costs the reader one io_timeout of wall time.
            decode = decodeComposition.engine(
                    Disagg.config(
                            "consumer",
                            "transport",
                            transport,
                            "io_timeout",
                            "250ms",
                            "connect_timeout",
                            "250ms",
                            "chunk_blocks",
                            (long) (1 + random.nextInt(4))),
                    KitEngine.Options.defaults("decode")
                            .withWorkers(workers)
                            .withAsyncScheduling(async)
                            .withGpuBlocks(decodeBlocks)
                            .withRecomputeOnLoadFailure(recompute)
                            .withEosRate(EOS_RATE)
                            // Failed loads reported a step late: nothing computed from them may get out.
                            .withLateLoadErrorReports(round % 2 == 0));
            long deadline = System.nanoTime() + MAX_ROUND_TIME.toNanos();
            boolean finalJump = false;
            int step = 0;
            for (; step < MAX_STEPS_PER_ROUND && System.nanoTime() < deadline; step++) {
                for (var it = toForward.iterator(); it.hasNext(); ) {
                    Req r = it.next();
                    KitEngine.Finished pf = prefillDone.get(r.id);
                    if (step >= r.forwardedAt) {
                        it.remove();
                        r.forwardedAt = step;
                        decode.addRequest(r.id, r.prompt, r.maxTokens, pf.transferParams());
                    }
                }
                for (Req r : reqs) {
                    if (r.submitAt == step && !dead) {
                        prefill.addRequest(
                                r.id, r.prompt, 1, TransferParams.empty().with(RemoteParams.DO_REMOTE_DECODE, true));
                    }
                    if (r.abortPrefillAfter >= 0
                            && r.submitAt + r.abortPrefillAfter == step
                            && !prefillDone.containsKey(r.id)
                            && !dead) {
                        r.abortedOnPrefill = true;
                        prefill.abort(r.id);
                    }
                    if (r.abortDecodeAfter >= 0
                            && r.forwardedAt >= 0
                            && r.forwardedAt + r.abortDecodeAfter == step
                            && !decodeDone.containsKey(r.id)) {
                        r.abortedOnDecode = true;
                        decode.abort(r.id);
                    }
                }
                for (int j : jumps) {
                    if (j == step) {
                        // Past every lease: transfers not yet read are expired, reads in flight finish.
                        clock.advance(LEASE.plusSeconds(1));
                        faults.merge("clock_jump", 1L, Long::sum);
                    }
                }
                if (step == deathAt) {
                    harvestProducer(composition, prefill);
                    prefill.close(); // the producer dies: its server and every connection are gone
                    dead = true;
                    faults.merge("producer_death", 1L, Long::sum);
                }
                if (!dead && prefill.hasWork()) {
                    for (KitEngine.Finished pf : prefill.step()) {
                        prefillDone.put(pf.requestId(), pf);
                        Req r = byId.get(pf.requestId());
                        boolean ok = pf.status().equals("FINISHED_LENGTH_CAPPED")
                                || pf.status().equals("FINISHED_STOPPED");
                        if (ok && r.lose) {
                            notForwarded++;
                        } else if (ok) {
                            r.forwardedAt = step + r.forwardDelay; // when it is due; set again when sent
                            toForward.add(r);
                        }
                    }
                }
                if (decode.hasWork()) {
                    for (KitEngine.Finished df : decode.step()) {
                        decodeDone.put(df.requestId(), df);
                    }
                }
                int now = step;
                boolean streamOver = step > 0 && reqs.stream().allMatch(r -> r.submitAt < now) && toForward.isEmpty();
                if (streamOver
                        && !dead
                        && !decode.hasWork()
                        && prefill.hasWork()
                        && !finalJump
                        && reqs.stream().allMatch(r -> prefillDone.containsKey(r.id))) {
                    // Only transfers nobody will read are left (lost forwards, notifications the
                    // faults swallowed): their leases free them.
                    finalJump = true;
                    clock.advance(LEASE.plusSeconds(1));
                }
                if (streamOver && !decode.hasWork() && (dead || !prefill.hasWork())) {
                    break;
                }
            }
            recomputed += decode.schedulerCounts().get("requests_recomputed");
            loadFailures += decode.schedulerCounts().get("load_failures");
            List<String> held = new ArrayList<>();
            if (!dead) {
                // A dead producer's state died with it; a live one must have freed every transfer.
                long offered = composition.stat(prefill, "sends_offered");
                long sendsFinished = composition.stat(prefill, "sends_finished");
                harvestProducer(composition, prefill);
                if (offered != sendsFinished) {
                    held.add("prefill: " + offered + " send(s) offered but " + sendsFinished + " finished");
                }
                prefill.problems().forEach(p -> held.add("prefill: " + p));
            }
            harvestOffload(decode);
            decode.problems().forEach(p -> held.add("decode: " + p));
            if (!held.isEmpty()) {
                leakRounds++;
                for (String p : held) {
                    problem(tag + " after " + step + " steps: " + p);
                }
            }
        } catch (RuntimeException | InterruptedException | AssertionError e) {
            crashed = true;
            crashes++;
            problem(tag + ": crash: " + e);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        } finally {
            if (prefill != null) {
                prefill.close();
            }
            if (decode != null) {
                decode.close();
            }
        }
        if (!crashed) {
            check(tag, reqs, expected, prefillDone, decodeDone, dead);
        }
    }

    /** Adds the producer's injected faults, expired leases and offload counters to the totals. */
    private void harvestProducer(Composition composition, KitEngine prefill) {
        for (var e : composition.nixlStats(prefill).entrySet()) {
            if (e.getKey().startsWith("faults_injected_")) {
                faults.merge(
                        e.getKey().substring("faults_injected_".length()),
                        e.getValue().longValue(),
                        Long::sum);
            }
        }
        leasesExpired += composition.stat(prefill, "leases_expired");
        harvestOffload(prefill);
    }

    /** Adds the counters of {@code engine}'s offload child, if it has one, to the totals. */
    private void harvestOffload(KitEngine engine) {
        engine.connectorStats().forEach((k, v) -> {
            int dot = k.indexOf(".");
            if (dot > 0 && k.substring(0, dot).endsWith(":offload")) {
                offloadStats.merge(k.substring(dot + 1), v.longValue(), Long::sum);
            }
        });
    }

    /** Checks every request's outcome against the single-engine outputs. */
    private void check(
            String tag,
            List<Req> reqs,
            Map<String, int[]> expected,
            Map<String, KitEngine.Finished> prefillDone,
            Map<String, KitEngine.Finished> decodeDone,
            boolean producerDied) {
        for (Req r : reqs) {
            int[] want = expected.get(r.id);
            KitEngine.Finished pf = prefillDone.get(r.id);
            if (pf == null && producerDied) {
                lostWithProducer++;
                continue;
            }
            if (pf == null) {
                problem(tag + ": " + r.id + " never finished on the prefill engine");
                continue;
            }
            boolean prefillOk =
                    pf.status().equals("FINISHED_LENGTH_CAPPED") || pf.status().equals("FINISHED_STOPPED");
            if (!isPrefix(pf.outputTokens(), want)) {
                problem(tag + ": " + r.id + "'s prefill output " + Arrays.toString(pf.outputTokens())
                        + " is not a prefix of " + Arrays.toString(want));
            }
            if (!prefillOk) {
                if (pf.status().equals("FINISHED_ABORTED") && r.abortedOnPrefill) {
                    abortedPrefill++;
                } else if (pf.status().equals("FINISHED_ERROR") && !pf.reason().isEmpty()) {
                    failed++;
                } else {
                    problem(tag + ": " + r.id + " ended on the prefill engine as " + pf.status() + " (" + pf.reason()
                            + ")");
                }
                continue;
            }
            if (r.lose) {
                continue;
            }
            KitEngine.Finished df = decodeDone.get(r.id);
            if (df == null) {
                problem(tag + ": " + r.id + " was forwarded but never finished on the decode engine");
                continue;
            }
            switch (df.status()) {
                case "FINISHED_LENGTH_CAPPED", "FINISHED_STOPPED" -> {
                    if (Arrays.equals(want, df.outputTokens())) {
                        finishedOk++;
                    } else {
                        problem(tag + ": " + r.id + " produced " + Arrays.toString(df.outputTokens()) + " instead of "
                                + Arrays.toString(want));
                    }
                }
                case "FINISHED_ABORTED" -> {
                    if (!r.abortedOnDecode) {
                        problem(tag + ": " + r.id + " was aborted on the decode engine by nobody");
                    } else if (!isPrefix(df.outputTokens(), want)) {
                        problem(tag + ": aborted " + r.id + "'s output is not a prefix of the single-engine one");
                    } else {
                        abortedDecode++;
                    }
                }
                case "FINISHED_ERROR" -> {
                    if (df.reason().isEmpty()) {
                        problem(tag + ": " + r.id + " failed without a reason");
                    } else if (!isPrefix(df.outputTokens(), want)) {
                        problem(tag + ": failed " + r.id + "'s output is not a prefix of the single-engine one");
                    } else {
                        failed++;
                    }
                }
                default -> problem(tag + ": " + r.id + " ended on the decode engine as " + df.status());
            }
        }
    }

    private static boolean isPrefix(int[] got, int[] want) {
        return want != null && got.length <= want.length && Arrays.equals(got, Arrays.copyOf(want, got.length));
    }

    /** A round's requests: prompts on three shared prefixes, random lengths, fates and arrival steps. */
    private List<Req> stream(SplittableRandom random, int round) {
        int[][] prefixes = new int[3][];
        for (int i = 0; i < prefixes.length; i++) {
            prefixes[i] = Disagg.prompt(random, 4 * (1 + random.nextInt(4)) + random.nextInt(3));
        }
        List<Req> out = new ArrayList<>();
        for (int i = 0; i < settings.requestsPerRound(); i++) {
            int[] prefix = random.nextInt(5) == 0 ? new int[0] : prefixes[random.nextInt(prefixes.length)];
            int[] suffix = Disagg.prompt(random, 1 + random.nextInt(22));
            int[] prompt = Arrays.copyOf(prefix, prefix.length + suffix.length);
            System.arraycopy(suffix, 0, prompt, prefix.length, suffix.length);
            out.add(new Req(
                    "s" + round + "-" + i,
                    prompt,
                    1 + random.nextInt(12),
                    random.nextInt(60),
                    random.nextInt(12) == 0 ? random.nextInt(6) : -1,
                    random.nextInt(16) == 0,
                    random.nextInt(4),
                    random.nextInt(10) == 0 ? random.nextInt(12) : -1));
        }
        return out;
    }

    /** The outputs of the round's requests through one engine without a connector. */
    private static Map<String, int[]> baseline(List<Req> reqs) throws InterruptedException {
        try (KitEngine single = KitEngine.create(
                Optional.empty(),
                Map.of(),
                KitEngine.Options.defaults("single")
                        .withGpuBlocks(PREFILL_BLOCKS)
                        .withEosRate(EOS_RATE))) {
            Map<String, int[]> out = new HashMap<>();
            for (Req r : reqs) {
                single.addRequest(r.id, r.prompt, r.maxTokens, TransferParams.empty());
            }
            for (int i = 0; i < Disagg.MAX_STEPS && single.hasWork(); i++) {
                for (KitEngine.Finished f : single.step()) {
                    out.put(f.requestId(), f.outputTokens());
                }
            }
            return out;
        }
    }
}
