package io.kvconnect.nixl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.kvconnect.api.worker.KvLayout;
import io.kvconnect.api.worker.LayoutKind;
import io.kvconnect.api.worker.MemoryKind;
import io.kvconnect.nixl.protocol.Compat;
import io.kvconnect.nixl.protocol.TransferRef;
import io.kvconnect.nixl.transport.ConnectOptions;
import io.kvconnect.nixl.transport.Peer;
import io.kvconnect.nixl.transport.TcpTransport;
import io.kvconnect.testkit.KitEngine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Through two real engines: the done notices of one step's loads travel as one notice per
 * producer worker, each request's blocks are released once, and repeated and unknown transfers
 * in a notice are ignored.
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
                            Compat.of("reader-with-the-parameters", NixlConnectorProvider.VERSION, LAYOUT),
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

    /** The test engines' layout: what a reader needs to pass the compatibility check. */
    private static final KvLayout LAYOUT = new KvLayout(
            KitEngine.MODEL,
            0,
            1,
            65,
            4,
            KitEngine.MODEL.bytesPerTokenPerLayer(1) * 4,
            LayoutKind.PER_LAYER,
            MemoryKind.HOST);
}
