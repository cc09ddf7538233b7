package io.kvconnect.nixl.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A reader's receives end before the producer may free the memory its messages are sent from: the
 * wait is the reader's {@code io_timeout}, cut to a bound that stays well inside the producer's
 * retirement of a closed connection's staging memory. Needs no UCX: it is the rule, not the
 * transport.
 */
class UcxReceiveWaitTest {
    @Test
    void aLongIoTimeoutIsCutToTheBoundAndAShortOneKept() {
        assertEquals(1_000, UcxTransport.receiveWaitMillis(1_000));
        assertEquals(UcxTransport.MAX_RECEIVE_WAIT.toMillis(), UcxTransport.receiveWaitMillis(60_000));
        assertEquals(
                UcxTransport.MAX_RECEIVE_WAIT.toMillis(),
                UcxTransport.receiveWaitMillis(UcxTransport.RETIRED_FOR.toMillis()),
                "the default io_timeout (10 s) is as long as the retirement: it is cut too");
    }

    @Test
    void theBoundLeavesTheProducerAMarginOfSeconds() {
        // A producer may close right after it answered STAGED, before the reader takes the
        // messages: the margin covers that, and fragments of cancelled receives still queued.
        assertTrue(
                UcxTransport.MAX_RECEIVE_WAIT.plus(Duration.ofSeconds(2)).compareTo(UcxTransport.RETIRED_FOR) <= 0,
                UcxTransport.MAX_RECEIVE_WAIT + " against " + UcxTransport.RETIRED_FOR);
    }
}
