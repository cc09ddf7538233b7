package io.kvconnect.nixl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.nixl.protocol.Compat;
import io.kvconnect.nixl.protocol.Frames;
import io.kvconnect.nixl.protocol.TransferException;
import io.kvconnect.nixl.protocol.TransferRef;
import io.kvconnect.nixl.transport.ArenaBlockBuffer;
import io.kvconnect.nixl.transport.ConnectOptions;
import io.kvconnect.nixl.transport.Peer;
import io.kvconnect.nixl.transport.TcpTransport;
import io.kvconnect.testkit.KitEngine;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Prefill/decode lifecycles through two real engines connected by the nixl-like connector over
 * TCP on loopback (aborts on either side, a decode engine too small for all requests at once,
 * preemption after receipt, mismatched shapes, lost and duplicate notifications): every decode
 * output must equal a single engine's, no KV read may be wrong, and both engines must drain with
 * nothing held.
 */
class DisaggLifecycleTest {

    @ParameterizedTest(name = "{0}, workers={1}, async={2}")
    @CsvSource({"tcp,1,false", "tcp,1,true", "tcp,2,false", "tcp,2,true", "ucx,1,false", "ucx,2,true"})
    void basicShortAndFullBlockPromptsDecodeLikeOneEngine(String transport, int workers, boolean async)
            throws Exception {
        Disagg.assumeAvailable(transport);
        var random = new SplittableRandom(1);
        try (Disagg d = Disagg.create(transport, workers, async, 64)) {
            // 1 token: nothing to load (the last prompt token is always recomputed); 3: a partial
            // block; 4 and 8: exactly full blocks; 13 and 30: several blocks and a partial one.
            int[] lengths = {1, 3, 4, 8, 13, 30};
            for (int i = 0; i < lengths.length; i++) {
                d.submit("r" + i, Disagg.prompt(random, lengths[i]), 4 + i);
            }
            d.drain();
            assertEquals(lengths.length, d.decodeDone.size());
            d.assertSameOutputs(List.of());
            assertEquals(lengths.length, d.stat(d.prefill, "sends_offered"));
            assertEquals(lengths.length, d.stat(d.prefill, "sends_finished"));
            assertEquals(0, d.stat(d.prefill, "leases_expired"));
            assertEquals(lengths.length - 1, d.stat(d.decode, "loads_planned"));
            assertEquals((lengths.length - 1L) * workers, d.stat(d.decode, "loads_ok"));
            assertEquals(1, d.stat(d.decode, "loads_skipped_local_hit"));
            assertEquals(workers, d.stat(d.decode, "transport_" + transport + "_workers"));
            assertEquals(workers, d.stat(d.prefill, "transport_" + transport + "_workers"));
            assertTrue(d.stat(d.decode, "bytes_received") > 0);
            assertEquals(d.stat(d.prefill, "bytes_sent"), d.stat(d.decode, "bytes_received"));
            d.assertClean();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tcp", "ucx"})
    void prefixHitsOnBothSidesReadOnlyTheMissingBlocks(String transport) throws Exception {
        Disagg.assumeAvailable(transport);
        var random = new SplittableRandom(2);
        int[] shared = Disagg.prompt(random, 16);
        try (Disagg d = Disagg.create(transport, 1, false, 64)) {
            d.submit("first", concat(shared, Disagg.prompt(random, 6)), 5);
            d.drain();
            long bytesFirst = d.stat(d.decode, "bytes_received");
            d.submit("second", concat(shared, Disagg.prompt(random, 9)), 5);
            d.drain();
            d.assertSameOutputs(List.of());
            assertTrue(d.prefill.schedulerCounts().get("prefix_hit_tokens") >= 16, "prefill prefix hit");
            assertTrue(d.decode.schedulerCounts().get("prefix_hit_tokens") >= 16, "decode prefix hit");
            // The second request (25 tokens, 7 blocks) reads only blocks 4 and 5: 0 to 3 are the
            // shared prefix, cached locally, and block 6 holds only the last prompt token, which
            // the engine recomputes.
            long blockBytes = d.stat(d.decode, "bytes_received") / d.stat(d.decode, "blocks_received");
            assertEquals(6 + 2, d.stat(d.decode, "blocks_received"));
            assertEquals(6 * blockBytes, bytesFirst);
            d.assertClean();
        }
    }

    @Test
    void abortsOnEitherSideFreeTheProducerWithoutWaitingForTheLease() throws Exception {
        var random = new SplittableRandom(3);
        try (Disagg d = Disagg.create(1, false, 64)) {
            d.autoForward = false;
            for (String id : List.of("beforeLoad", "duringLoad", "normal", "prefillAbort")) {
                d.submit(id, Disagg.prompt(random, id.equals("prefillAbort") ? 60 : 40), 6);
            }
            d.prefill.step();
            d.prefill.abort("prefillAbort"); // mid-prefill: a 60-token prompt takes two chunks
            d.untilPrefilled("beforeLoad");
            d.untilPrefilled("duringLoad");
            d.untilPrefilled("normal");
            d.untilPrefilled("prefillAbort");
            assertEquals("FINISHED_ABORTED", d.prefillDone.get("prefillAbort").status());
            assertTrue(d.prefillDone.get("prefillAbort").transferParams().isEmpty());

            d.forward("beforeLoad");
            d.decode.abort("beforeLoad"); // before the decode engine ever scheduled it
            d.forward("duringLoad");
            d.stepDecode(); // finishes beforeLoad; plans and starts duringLoad's load
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

    @Test
    void decodeEngineTooSmallForEveryRequestAtOnceStillLoadsEach() throws Exception {
        var random = new SplittableRandom(4);
        try (Disagg d = Disagg.create(1, true, 24)) {
            for (int i = 0; i < 8; i++) {
                d.submit("r" + i, Disagg.prompt(random, 20 + i), 8);
            }
            d.drain();
            d.assertSameOutputs(List.of());
            assertEquals(8, d.decodeDone.size());
            assertEquals(8, d.stat(d.prefill, "sends_finished"));
            d.assertClean();
        }
    }

    @Test
    void preemptionAfterReceiptRecomputesLocally() throws Exception {
        var random = new SplittableRandom(5);
        try (Disagg d = Disagg.create(1, false, 20)) {
            for (int i = 0; i < 4; i++) {
                d.submit("r" + i, Disagg.prompt(random, 12), 40);
            }
            d.drain();
            assertTrue(d.decode.schedulerCounts().get("preemptions") > 0, "the decode engine preempted");
            d.assertSameOutputs(List.of());
            // Remote parameters are used once: a preempted request is recomputed, not reloaded.
            assertEquals(4, d.stat(d.decode, "loads_planned"));
            d.assertClean();
        }
    }

    @ParameterizedTest(name = "recompute on load failure: {0}")
    @CsvSource({"true", "false"})
    void readAfterLeaseExpiryIsAVisibleLoadFailure(boolean recompute) throws Exception {
        var clock = new MutableClock();
        var random = new SplittableRandom(6);
        var p = KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                Disagg.config("producer", "lease_timeout", "1s"),
                KitEngine.Options.defaults("prefill").withClock(clock));
        var c = KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                Disagg.config("consumer"),
                KitEngine.Options.defaults("decode").withRecomputeOnLoadFailure(recompute));
        try (Disagg d = new Disagg(p, c)) {
            d.autoForward = false;
            d.submit("late", Disagg.prompt(random, 20), 5);
            d.untilPrefilled("late");
            assertTrue(d.prefill.hasWork(), "the producer keeps stepping while the lease is open");
            clock.advance(Duration.ofSeconds(2));
            d.drain(); // the prefill engine alone: the lease expires and the blocks are freed
            assertEquals(1, d.stat(d.prefill, "leases_expired"));
            assertEquals(1, d.stat(d.prefill, "sends_finished"));

            d.forward("late");
            d.drain();
            assertEquals(1, d.stat(d.decode, "loads_failed_expired"));
            assertEquals(1, d.decode.schedulerCounts().get("load_failures"));
            if (recompute) {
                d.assertSameOutputs(List.of());
            } else {
                assertEquals("FINISHED_ERROR", d.decodeDone.get("late").status());
            }
            d.assertClean();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tcp", "ucx"})
    void deadProducerEndsInBoundedTimeAndTheRequestIsRecomputed(String transport) throws Exception {
        Disagg.assumeAvailable(transport);
        var random = new SplittableRandom(7);
        try (Disagg d = Disagg.create(transport, 1, false, 64)) {
            d.autoForward = false;
            d.submit("orphan", Disagg.prompt(random, 20), 5);
            d.untilPrefilled("orphan");
            d.prefill.close(); // the producer dies: its server and connections are gone
            d.forward("orphan");
            for (int i = 0; i < Disagg.MAX_STEPS && d.decode.hasWork(); i++) {
                d.decodeDone.putAll(d.decode.step().stream()
                        .collect(java.util.stream.Collectors.toMap(KitEngine.Finished::requestId, f -> f)));
            }
            assertFalse(d.decode.hasWork());
            assertEquals(1, d.stat(d.decode, "loads_failed"));
            d.assertSameOutputs(List.of());
            assertEquals(List.of(), d.decode.problems());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tcp", "ucx"})
    void producerKilledWhileTheDecodeSideReadsEndsInBoundedTime(String transport) throws Exception {
        Disagg.assumeAvailable(transport);
        var random = new SplittableRandom(13);
        var p = KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                Disagg.config("producer", "transport", transport),
                KitEngine.Options.defaults("prefill").withGpuBlocks(128));
        // One block per read: many round trips, so the producer dies in the middle of them.
        var c = KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                Disagg.config("consumer", "transport", transport, "chunk_blocks", 1L, "io_timeout", "2s"),
                KitEngine.Options.defaults("decode").withGpuBlocks(128));
        try (Disagg d = new Disagg(p, c)) {
            // A first request connects the decode worker to the producer, so the second one's
            // reads run on an open connection when the producer dies.
            d.submit("warm", Disagg.prompt(random, 8), 2);
            d.drain();
            d.autoForward = false;
            d.submit("cut", Disagg.prompt(random, 240), 4);
            d.untilPrefilled("cut");
            d.prefill.step(); // the workers learn of the transfer
            d.forward("cut");
            d.stepDecode(); // the load starts
            d.prefill.close();
            for (int i = 0; i < Disagg.MAX_STEPS && d.decode.hasWork(); i++) {
                d.stepDecode();
            }
            assertFalse(d.decode.hasWork());
            // Whether the load finished before the producer died or not, the output is right.
            assertEquals(2, d.stat(d.decode, "loads_ok") + d.stat(d.decode, "loads_failed"));
            d.assertSameOutputs(List.of());
            assertEquals(List.of(), d.decode.problems());
        }
    }

    @Test
    void differentBlockSizesAreRefusedAndComputedLocally() throws Exception {
        var random = new SplittableRandom(8);
        var p = KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                Disagg.config("producer", "lease_timeout", "300ms"),
                KitEngine.Options.defaults("prefill").withBlockSize(8));
        var c = KitEngine.create(
                Optional.of(Disagg.PROVIDER), Disagg.config("consumer"), KitEngine.Options.defaults("decode"));
        try (Disagg d = new Disagg(p, c)) {
            d.submit("r", Disagg.prompt(random, 20), 5);
            d.drain();
            d.assertSameOutputs(List.of());
            assertEquals(1, d.stat(d.decode, "loads_refused"));
            // Incompatible engines cannot even handshake, so the lease frees the producer's blocks.
            assertEquals(1, d.stat(d.prefill, "leases_expired"));
            d.assertClean();
        }
    }

    @Test
    void differentTensorParallelSizesAreRefusedAndComputedLocally() throws Exception {
        var random = new SplittableRandom(9);
        var p = KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                Disagg.config("producer", "lease_timeout", "300ms"),
                KitEngine.Options.defaults("prefill").withWorkers(2));
        var c = KitEngine.create(
                Optional.of(Disagg.PROVIDER), Disagg.config("consumer"), KitEngine.Options.defaults("decode"));
        try (Disagg d = new Disagg(p, c)) {
            d.submit("r", Disagg.prompt(random, 20), 5);
            d.drain();
            d.assertSameOutputs(List.of());
            assertEquals(1, d.stat(d.decode, "loads_refused"));
            assertEquals(2, d.stat(d.prefill, "leases_expired"), "one lease per producer worker");
            d.assertClean();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tcp", "ucx"})
    void wrongSecretFailsTheLoadVisibly(String transport) throws Exception {
        Disagg.assumeAvailable(transport);
        var random = new SplittableRandom(10);
        var p = KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                Disagg.config("producer", "transport", transport, "lease_timeout", "300ms"),
                KitEngine.Options.defaults("prefill"));
        var c = KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                Disagg.config("consumer", "transport", transport, "secret", "other"),
                KitEngine.Options.defaults("decode"));
        try (Disagg d = new Disagg(p, c)) {
            d.submit("r", Disagg.prompt(random, 20), 5);
            d.drain();
            d.assertSameOutputs(List.of());
            assertEquals(1, d.stat(d.decode, "loads_failed"));
            assertEquals(1, d.stat(d.prefill, "leases_expired"), "a stranger cannot even say done");
            d.assertClean();
        }
    }

    @Test
    void duplicateAndUnknownNotificationsAreLoggedAndIgnored() throws Exception {
        var random = new SplittableRandom(11);
        try (Disagg d = Disagg.create(1, false, 64)) {
            d.submit("r", Disagg.prompt(random, 20), 5);
            d.drain();
            var params =
                    RemoteParams.from(d.prefillDone.get("r").transferParams()).orElseThrow();
            try (Peer peer = new TcpTransport()
                    .connect(
                            "127.0.0.1",
                            params.ports().get(0),
                            Compat.of("reader-with-the-parameters", NixlConnectorProvider.VERSION, Disagg.LAYOUT),
                            ConnectOptions.of("test-secret", Duration.ofSeconds(5)))) {
                peer.done(params.transfer()); // the decode engine said it already
                peer.done(params.transfer());
                peer.done(new TransferRef("prefill/never/1", params.token()));
                var late = assertThrows(
                        TransferException.class,
                        () -> peer.read(
                                params.transfer(),
                                params.blockIds(),
                                new ArenaBlockBuffer(params.blockIds().length, Disagg.LAYOUT.bytesPerBlock())));
                assertEquals(TransferException.Kind.EXPIRED, late.kind(), "a finished transfer is never served again");
            }
            d.prefill.step();
            assertEquals(2, d.stat(d.prefill, "notifications_duplicate"));
            assertEquals(1, d.stat(d.prefill, "notifications_unknown"));
            assertEquals(1, d.stat(d.prefill, "sends_finished"));
            d.assertSameOutputs(List.of());
            d.assertClean();
        }
    }

    @Test
    void aRequestIdUsedAgainLoadsItsOwnTransfer() throws Exception {
        var random = new SplittableRandom(12);
        try (Disagg d = Disagg.create(1, true, 64)) {
            d.submit("again", Disagg.prompt(random, 18), 4);
            d.drain();
            int[] first = d.decodeDone.get("again").outputTokens();
            String firstTransfer = RemoteParams.from(d.prefillDone.get("again").transferParams())
                    .orElseThrow()
                    .transferId();
            d.submit("again", Disagg.prompt(random, 23), 6);
            d.drain();
            String secondTransfer = RemoteParams.from(d.prefillDone.get("again").transferParams())
                    .orElseThrow()
                    .transferId();
            assertFalse(firstTransfer.equals(secondTransfer), "transfer ids are unique per transfer");
            assertEquals(2, d.stat(d.decode, "loads_ok"));
            d.assertSameOutputs(List.of()); // compares the second run's output
            assertFalse(java.util.Arrays.equals(first, d.decodeDone.get("again").outputTokens()));
            d.assertClean();
        }
    }

    @Test
    void aLostDoneNotificationDoesNotFailACompletedLoadAndTheLeaseFreesTheBlocks() throws Exception {
        var clock = new MutableClock();
        var random = new SplittableRandom(22);
        // Every done notice (message type 13: the reader sends its notices in batches) is
        // swallowed on its way to the producer.
        var p = KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                Disagg.config(
                        "producer", "lease_timeout", "5s", "faults", java.util.Map.of("drop", 1.0, "only_type", (long)
                                Frames.DONE_BATCH)),
                KitEngine.Options.defaults("prefill").withClock(clock));
        // Policy fail: a load reported as failed would fail the request.
        var c = KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                Disagg.config("consumer", "io_timeout", "200ms"),
                KitEngine.Options.defaults("decode").withRecomputeOnLoadFailure(false));
        try (Disagg d = new Disagg(p, c)) {
            d.submit("r", Disagg.prompt(random, 30), 5);
            for (int i = 0; i < Disagg.MAX_STEPS && !d.decodeDone.containsKey("r"); i++) {
                d.step();
            }
            assertEquals(
                    "FINISHED_LENGTH_CAPPED",
                    d.decodeDone.get("r").status(),
                    d.decodeDone.get("r").reason());
            assertTrue(d.prefill.hasWork(), "the producer still holds the blocks: nobody said done");
            clock.advance(Duration.ofSeconds(6));
            d.drain();
            assertEquals(1, d.stat(d.decode, "loads_ok"));
            assertEquals(0, d.stat(d.decode, "loads_failed"));
            // The notice goes out after the step's loads, so its timeout may come after the
            // request finished: the decode engine's steps report it once it did.
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (d.stat(d.decode, "notifications_failed") == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
                d.stepDecode();
            }
            assertEquals(1, d.stat(d.decode, "notifications_failed"));
            assertTrue(d.stat(d.prefill, "faults_injected_drop") >= 1);
            assertEquals(1, d.stat(d.prefill, "leases_expired"));
            assertEquals(1, d.stat(d.prefill, "sends_finished"));
            d.assertSameOutputs(List.of());
            d.assertClean();
        }
    }

    static int[] concat(int[] a, int[] b) {
        int[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void aUcxReaderFallsBackToTcpDataWithATcpOnlyProducer() throws Exception {
        Disagg.assumeAvailable("ucx");
        var random = new SplittableRandom(21);
        var p = KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                Disagg.config("producer", "transport", "tcp"),
                KitEngine.Options.defaults("prefill"));
        var c = KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                Disagg.config("consumer", "transport", "ucx"),
                KitEngine.Options.defaults("decode"));
        try (Disagg d = new Disagg(p, c)) {
            d.submit("r", Disagg.prompt(random, 30), 5);
            d.drain();
            d.assertSameOutputs(List.of());
            assertEquals(1, d.stat(d.decode, "loads_ok"));
            assertEquals(d.stat(d.prefill, "bytes_sent"), d.stat(d.decode, "bytes_received"));
            d.assertClean();
        }
    }
}
