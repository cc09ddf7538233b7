package io.kvconnect.nixl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.TransferParams;
import io.kvconnect.testkit.KitEngine;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Prefill/decode disaggregation with the realistic composition on each engine: a {@code multi}
 * whose children are nixl-like (the transfer between the engines) and offload (a host tier), in
 * both orders ({@link Composition#withOffload}). The router hands the prefill's response
 * parameters, nested under nixl-like's child key, to the decode engine unchanged. As in {@link
 * DisaggLifecycleTest}: every normally finished decode output equals a single engine's, no KV read
 * is wrong, both engines drain with nothing held and no hook fails.
 */
class MultiDisaggLifecycleTest {
    private static final Map<String, Object> OFFLOAD = Map.of("capacity", "1MiB");

    private static Composition composition(boolean nixlFirst) {
        return Composition.withOffload(nixlFirst, OFFLOAD);
    }

    @ParameterizedTest(name = "nixl-like first: {0}, {1}, workers={2}, async={3}")
    @CsvSource({
        "true,tcp,1,false",
        "true,tcp,2,true",
        "false,tcp,1,true",
        "false,tcp,2,false",
        "true,ucx,2,false",
        "false,ucx,1,true"
    })
    void bothOrdersTransferEveryPromptAndDecodeLikeOneEngine(
            boolean nixlFirst, String transport, int workers, boolean async) throws Exception {
        Disagg.assumeAvailable(transport);
        Composition c = composition(nixlFirst);
        var random = new SplittableRandom(11);
        try (Disagg d = Disagg.create(c, transport, workers, async, 64)) {
            int[] lengths = {1, 3, 4, 8, 13, 30};
            for (int i = 0; i < lengths.length; i++) {
                d.submit("r" + i, Disagg.prompt(random, lengths[i]), 4 + i);
            }
            d.drain();
            assertEquals(lengths.length, d.decodeDone.size());
            d.assertSameOutputs(List.of());
            // nixl-like got its ports through the composite's handshake forwarding (else nothing
            // would be offered) and every offered send was freed by the reader's notification.
            assertEquals(lengths.length, d.stat(d.prefill, "sends_offered"));
            assertEquals(lengths.length, d.stat(d.prefill, "sends_finished"));
            assertEquals(0, d.stat(d.prefill, "leases_expired"));
            assertEquals(lengths.length - 1, d.stat(d.decode, "loads_planned"));
            assertEquals((lengths.length - 1L) * workers, d.stat(d.decode, "loads_ok"));
            assertEquals(d.stat(d.prefill, "bytes_sent"), d.stat(d.decode, "bytes_received"));
            assertEquals(workers, d.stat(d.decode, "transport_" + transport + "_workers"));
            // The host tier of each engine stored the blocks it computed or received.
            assertTrue(offload(d.prefill, c, "stored_blocks") > 0, "prefill offload stored nothing");
            assertTrue(offload(d.decode, c, "stored_blocks") > 0, "decode offload stored nothing");
            d.assertClean();
        }
    }

    @ParameterizedTest(name = "nixl-like first: {0}")
    @ValueSource(booleans = {true, false})
    void theRouterForwardsTheNestedParametersUnchanged(boolean nixlFirst) throws Exception {
        Composition c = composition(nixlFirst);
        var random = new SplittableRandom(12);
        try (Disagg d = Disagg.create(c, "tcp", 1, false, 64)) {
            d.autoForward = false;
            d.submit("r", Disagg.prompt(random, 21), 5);
            d.untilPrefilled("r");
            TransferParams params = d.prefillDone.get("r").transferParams();
            // Only nixl-like answers with parameters, under its child key; offload adds nothing.
            assertEquals(Set.of(c.nixlKey()), params.asMap().keySet(), params.toString());
            TransferParams own = TransferParams.of(castMap(params.asMap().get(c.nixlKey())));
            RemoteParams remote = RemoteParams.from(own).orElseThrow();
            assertEquals("prefill", remote.engineId());
            assertTrue(remote.numTokens() >= 20 && remote.numTokens() <= 21, "remote tokens " + remote.numTokens());
            d.forward("r");
            d.drain();
            d.assertSameOutputs(List.of());
            assertEquals(1, d.stat(d.decode, "loads_ok"));
            assertEquals(0, d.stat(d.decode, "loads_refused"), "nixl-like saw its own part, not the wrapper");
            d.assertClean();
        }
    }

    @ParameterizedTest(name = "offload loads {0}")
    @ValueSource(strings = {"async", "sync"})
    void aHostTierHitBeforeTheRemoteLoadStillFreesTheProducerByNotification(String load) throws Exception {
        // offload first: once a shared prefix is in the decode engine's host tier but no longer in
        // its GPU cache, offload answers the lookup first. Loading asynchronously like nixl-like,
        // the hits compose: offload loads the prefix and nixl-like the rest from the producer. A
        // synchronous offload does not compose with nixl-like's asynchronous load: nixl-like then
        // gets 0 external tokens and must tell the producer at once instead of leaving its blocks
        // to the lease.
        Composition c = Composition.withOffload(false, Map.of("capacity", "1MiB", "load", load));
        var random = new SplittableRandom(13);
        int[] shared = Disagg.prompt(random, 16);
        try (Disagg d = Disagg.create(c, "tcp", 1, false, 24)) {
            d.submit("first", concat(shared, Disagg.prompt(random, 5)), 3);
            d.drain();
            for (int i = 0; i < 6; i++) { // unrelated requests push the prefix out of the GPU cache
                d.submit("filler" + i, Disagg.prompt(random, 18), 3);
            }
            d.drain();
            d.submit("second", concat(shared, Disagg.prompt(random, 7)), 4);
            d.drain();
            d.assertSameOutputs(List.of());
            assertTrue(offload(d.decode, c, "hit_blocks") > 0, "the decode engine's host tier served no hit");
            if (load.equals("async")) {
                assertEquals(0, d.stat(d.decode, "loads_skipped_local_hit"), "composed: nixl-like loads the rest");
                assertEquals(8, d.stat(d.decode, "loads_planned"), "every request's remote part was loaded");
            } else {
                assertTrue(d.stat(d.decode, "loads_skipped_local_hit") > 0, "nixl-like was never told 0 tokens");
            }
            assertEquals(d.stat(d.prefill, "sends_offered"), d.stat(d.prefill, "sends_finished"));
            assertEquals(0, d.stat(d.prefill, "leases_expired"), "freed by notifications, not by the lease");
            d.assertClean();
        }
    }

    @ParameterizedTest(name = "nixl-like first: {0}")
    @ValueSource(booleans = {true, false})
    void abortsOnEitherSideFreeTheProducerWithoutWaitingForTheLease(boolean nixlFirst) throws Exception {
        var random = new SplittableRandom(14);
        try (Disagg d = Disagg.create(composition(nixlFirst), "tcp", 1, false, 64)) {
            d.autoForward = false;
            for (String id : List.of("beforeLoad", "duringLoad", "normal", "prefillAbort")) {
                d.submit(id, Disagg.prompt(random, id.equals("prefillAbort") ? 60 : 40), 6);
            }
            d.prefill.step();
            d.prefill.abort("prefillAbort");
            for (String id : List.of("beforeLoad", "duringLoad", "normal", "prefillAbort")) {
                d.untilPrefilled(id);
            }
            assertEquals("FINISHED_ABORTED", d.prefillDone.get("prefillAbort").status());
            assertTrue(d.prefillDone.get("prefillAbort").transferParams().isEmpty());

            d.forward("beforeLoad");
            d.decode.abort("beforeLoad");
            d.forward("duringLoad");
            d.stepDecode();
            d.decode.abort("duringLoad");
            d.forward("normal");
            d.drain();

            assertEquals("FINISHED_ABORTED", d.decodeDone.get("beforeLoad").status());
            assertEquals("FINISHED_ABORTED", d.decodeDone.get("duringLoad").status());
            d.assertSameOutputs(List.of("beforeLoad", "duringLoad"));
            assertEquals(3, d.stat(d.prefill, "sends_finished"));
            assertEquals(0, d.stat(d.prefill, "leases_expired"), "freed by notifications, not by the 30 s lease");
            assertEquals(1, d.stat(d.prefill, "sends_not_offered"));
            d.assertClean();
        }
    }

    @ParameterizedTest(name = "nixl-like first: {0}")
    @ValueSource(booleans = {true, false})
    void readAfterLeaseExpiryIsAVisibleLoadFailureAndTheRequestIsRecomputed(boolean nixlFirst) throws Exception {
        Composition c = composition(nixlFirst);
        var clock = new MutableClock();
        var random = new SplittableRandom(15);
        var p = c.engine(
                Disagg.config("producer", "lease_timeout", "1s"),
                KitEngine.Options.defaults("prefill").withClock(clock));
        var dec = c.engine(Disagg.config("consumer"), KitEngine.Options.defaults("decode"));
        try (Disagg d = new Disagg(p, dec, c)) {
            d.autoForward = false;
            d.submit("late", Disagg.prompt(random, 20), 5);
            d.untilPrefilled("late");
            clock.advance(Duration.ofSeconds(2));
            d.drain();
            assertEquals(1, d.stat(d.prefill, "leases_expired"));
            assertEquals(1, d.stat(d.prefill, "sends_finished"));
            d.forward("late");
            d.drain();
            assertEquals(1, d.stat(d.decode, "loads_failed_expired"));
            assertEquals(1, d.decode.schedulerCounts().get("load_failures"));
            d.assertSameOutputs(List.of());
            d.assertClean();
        }
    }

    @ParameterizedTest(name = "nixl-like first: {0}")
    @ValueSource(booleans = {true, false})
    void preemptionsOnASmallDecodePoolRecomputeLocally(boolean nixlFirst) throws Exception {
        var random = new SplittableRandom(16);
        try (Disagg d = Disagg.create(composition(nixlFirst), "tcp", 1, true, 20)) {
            for (int i = 0; i < 5; i++) {
                d.submit("r" + i, Disagg.prompt(random, 12), 40);
            }
            d.drain();
            assertTrue(d.decode.schedulerCounts().get("preemptions") > 0, "the decode engine preempted");
            d.assertSameOutputs(List.of());
            assertEquals(5, d.stat(d.prefill, "sends_finished"));
            d.assertClean();
        }
    }

    @Test
    void aNestedCompositeNestsTheParametersTwiceAndStillLoads() throws Exception {
        // multi[multi[nixl-like, offload], offload]: the parameters come back as
        // {"0:multi": {"0:nixl-like": {...}}} and each level shows its child its own part.
        var providers = List.of(Disagg.PROVIDER, new io.kvconnect.offload.OffloadConnectorProvider());
        var multi = new io.kvconnect.multi.MultiConnectorProvider();
        java.util.function.Function<Map<String, Object>, Map<String, Object>> nest = nixl -> Map.of(
                "connectors",
                List.of(
                        Map.of(
                                "name",
                                "multi",
                                "config",
                                Map.of(
                                        "connectors",
                                        List.of(
                                                Map.of("name", "nixl-like", "config", nixl),
                                                Map.of("name", "offload", "config", Map.of("capacity", "16KiB"))))),
                        Map.of("name", "offload", "config", Map.of("capacity", "1MiB", "load", "sync"))));
        var p = KitEngine.create(
                java.util.Optional.of(multi),
                providers,
                nest.apply(Disagg.config("producer")),
                KitEngine.Options.defaults("prefill").withWorkers(2));
        var dec = KitEngine.create(
                java.util.Optional.of(multi),
                providers,
                nest.apply(Disagg.config("consumer")),
                KitEngine.Options.defaults("decode").withWorkers(2));
        var random = new SplittableRandom(17);
        try (Disagg d = new Disagg(p, dec)) {
            d.autoForward = false;
            for (int i = 0; i < 4; i++) {
                d.submit("r" + i, Disagg.prompt(random, 9 + 6 * i), 5);
            }
            for (int i = 0; i < 4; i++) {
                d.untilPrefilled("r" + i);
                Map<String, Object> outer =
                        d.prefillDone.get("r" + i).transferParams().asMap();
                assertEquals(Set.of("0:multi"), outer.keySet(), outer.toString());
                Map<String, ?> inner = castMap(outer.get("0:multi"));
                assertEquals(Set.of("0:nixl-like"), inner.keySet(), inner.toString());
                assertTrue(RemoteParams.from(TransferParams.of(castMap(inner.get("0:nixl-like"))))
                        .isPresent());
                d.forward("r" + i);
            }
            d.drain();
            d.assertSameOutputs(List.of());
            String nixl = "0:multi.0:nixl-like.";
            assertEquals(
                    4L, d.prefill.connectorStats().get(nixl + "sends_finished").longValue());
            assertEquals(8L, d.decode.connectorStats().get(nixl + "loads_ok").longValue()); // 4 loads x 2 workers
            d.assertClean();
        }
    }

    @ParameterizedTest(name = "prefill nixl-like first: {0}")
    @ValueSource(booleans = {true, false})
    void enginesOrderingTheirChildrenDifferentlyStillTransfer(boolean prefillNixlFirst) throws Exception {
        Composition pc = composition(prefillNixlFirst);
        Composition dc = composition(!prefillNixlFirst);
        var random = new SplittableRandom(18);
        var p = pc.engine(Disagg.config("producer"), KitEngine.Options.defaults("prefill"));
        var dec = dc.engine(Disagg.config("consumer"), KitEngine.Options.defaults("decode"));
        try (Disagg d = new Disagg(p, dec, pc)) {
            for (int i = 0; i < 3; i++) {
                d.submit("r" + i, Disagg.prompt(random, 10 + 7 * i), 4);
            }
            d.drain();
            d.assertSameOutputs(List.of());
            assertEquals(3, pc.stat(d.prefill, "sends_finished"));
            assertEquals(0, pc.stat(d.prefill, "leases_expired"), "freed by notifications, not by the lease");
            assertEquals(3, dc.stat(d.decode, "loads_ok"));
            d.assertClean();
        }
    }

    private static long offload(KitEngine engine, Composition c, String name) {
        String key = (1 - c.nixlIndex()) + ":offload." + name;
        return engine.connectorStats().getOrDefault(key, 0L).longValue();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, ?> castMap(Object o) {
        return (Map<String, ?>) o;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
