package io.kvconnect.nixl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kvconnect.nixl.protocol.Compat;
import io.kvconnect.nixl.protocol.TransferRef;
import io.kvconnect.nixl.transport.ConnectOptions;
import io.kvconnect.nixl.transport.Peer;
import io.kvconnect.nixl.transport.TcpTransport;
import io.kvconnect.testkit.KitEngine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Through two real engines: the done notices of one step's loads travel as one notice per
 * producer worker, each request's blocks are released once, repeated and unknown transfers in a
 * notice are ignored; and the reads are counted with their descriptors.
 */
class DisaggNoticesTest {
    private static final int REQUESTS = 4;

    @ParameterizedTest
    @ValueSource(strings = {"tcp", "ucx"})
    void theLoadsOfOneStepAreAnnouncedInOneNotice(String transport) throws Exception {
        Disagg.assumeAvailable(transport);
        var random = new SplittableRandom(41);
        try (Disagg d = Disagg.create(transport, 1, false, 64)) {
            d.autoForward = false;
            for (int i = 0; i < REQUESTS; i++) {
                d.submit("r" + i, Disagg.prompt(random, 13), 3);
            }
            for (int i = 0; i < REQUESTS; i++) {
                d.untilPrefilled("r" + i);
            }
            for (int i = 0; i < REQUESTS; i++) {
                d.forward("r" + i);
            }
            d.stepDecode(); // schedules every load in this one step
            d.drain();

            assertEquals(REQUESTS, d.stat(d.decode, "loads_ok"));
            assertEquals(1, d.stat(d.prefill, "notice_frames"), "one notice for the step's loads");
            assertEquals(REQUESTS, d.stat(d.prefill, "notifications_received"));
            // Released exactly once each: finished once, by the notice, not by the lease.
            assertEquals(REQUESTS, d.stat(d.prefill, "sends_finished"));
            assertEquals(0, d.stat(d.prefill, "notifications_duplicate"));
            assertEquals(0, d.stat(d.prefill, "leases_expired"));
            d.assertSameOutputs(List.of());
            d.assertClean();
        }
    }

    @Test
    void repeatedAndUnknownTransfersInANoticeAreIgnored() throws Exception {
        var random = new SplittableRandom(42);
        try (Disagg d = Disagg.create(1, false, 64)) {
            d.submit("a", Disagg.prompt(random, 13), 3);
            d.submit("b", Disagg.prompt(random, 13), 3);
            d.drain();
            assertEquals(2, d.stat(d.prefill, "sends_finished"));
            List<TransferRef> late = new ArrayList<>();
            for (String id : List.of("a", "b")) {
                late.add(RemoteParams.from(d.prefillDone.get(id).transferParams())
                        .orElseThrow()
                        .transfer());
            }
            var port = RemoteParams.from(d.prefillDone.get("a").transferParams())
                    .orElseThrow()
                    .ports()
                    .getFirst();
            late.add(new TransferRef("prefill/never/1", late.getFirst().token()));
            try (Peer peer = new TcpTransport()
                    .connect(
                            "127.0.0.1",
                            port,
                            Compat.of("reader-with-the-parameters", NixlConnectorProvider.VERSION, Disagg.LAYOUT),
                            ConnectOptions.of("test-secret", Duration.ofSeconds(5)))) {
                peer.done(late); // both already done: the decode engine said it
            }
            d.prefill.step();
            assertEquals(2, d.stat(d.prefill, "notifications_duplicate"));
            assertEquals(1, d.stat(d.prefill, "notifications_unknown"));
            assertEquals(2, d.stat(d.prefill, "sends_finished"), "nothing released twice");
            d.assertSameOutputs(List.of());
            d.assertClean();
        }
    }

    @Test
    void aLoadOfThreeRunsOfBlocksIsOneReadOfThreeDescriptors() throws Exception {
        var random = new SplittableRandom(43);
        try (Disagg d = Disagg.create(1, false, 64)) {
            d.autoForward = false;
            // 25 tokens: 7 blocks of 4; the first 6 are read (the last prompt token is recomputed).
            d.submit("r", Disagg.prompt(random, 25), 3);
            d.untilPrefilled("r");
            int[] ids = RemoteParams.from(d.prefillDone.get("r").transferParams())
                    .orElseThrow()
                    .blockIds();
            int[] sorted = ids.clone();
            Arrays.sort(sorted);
            assertEquals(7, sorted.length);
            for (int i = 1; i < sorted.length; i++) {
                assertEquals(sorted[0] + i, sorted[i], "a fresh engine gives one request consecutive blocks");
            }
            // The producer's blocks named in three runs of consecutive ids (0-2, 4-5, 3), as the
            // blocks of a fragmented KV cache would be. The KV lands in the wrong places, so only
            // the counts are checked.
            int[] order = {0, 1, 2, 4, 5, 3, 6};
            List<Object> named = new ArrayList<>();
            for (int i : order) {
                named.add((long) sorted[i]);
            }
            d.forward("r", t -> t.with("remote_block_ids", named));
            d.drain();
            assertEquals(1, d.stat(d.decode, "loads_ok"));
            assertEquals(6, d.stat(d.decode, "blocks_received"));
            assertEquals(1, d.stat(d.decode, "read_requests"));
            assertEquals(3, d.stat(d.decode, "read_descriptors"));
            assertEquals(1, d.stat(d.prefill, "reads_served"), "the producer counts the same read");
            assertEquals(3, d.stat(d.prefill, "descriptors_served"));
        }
    }

    @Test
    void aLoadLongerThanAChunkIsOneReadPerChunk() throws Exception {
        var random = new SplittableRandom(44);
        var p = KitEngine.create(
                Optional.of(Disagg.PROVIDER), Disagg.config("producer"), KitEngine.Options.defaults("prefill"));
        var c = KitEngine.create(
                Optional.of(Disagg.PROVIDER),
                Disagg.config("consumer", "chunk_blocks", 4L),
                KitEngine.Options.defaults("decode"));
        try (Disagg d = new Disagg(p, c)) {
            d.submit("r", Disagg.prompt(random, 25), 3); // 6 consecutive blocks are read
            d.drain();
            assertEquals(1, d.stat(d.decode, "loads_ok"));
            assertEquals(6, d.stat(d.decode, "blocks_received"));
            assertEquals(2, d.stat(d.decode, "read_requests"), "chunks of 4 blocks: 4 and 2");
            assertEquals(2, d.stat(d.decode, "read_descriptors"), "one run per chunk");
            assertEquals(2, d.stat(d.prefill, "reads_served"));
            assertEquals(2, d.stat(d.prefill, "reads_served_direct"), "host KV memory: sent with no staging copy");
            assertEquals(2, d.stat(d.prefill, "descriptors_served"));
            d.assertSameOutputs(List.of());
            d.assertClean();
        }
    }
}
