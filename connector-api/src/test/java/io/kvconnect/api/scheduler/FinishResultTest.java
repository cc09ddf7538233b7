package io.kvconnect.api.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kvconnect.api.common.TransferParams;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FinishResultTest {
    @Test
    void freeNowDoesNotDelayAndHasNoParams() {
        var r = FinishResult.freeNow();
        assertFalse(r.delayFree());
        assertTrue(r.params().isEmpty());
    }

    @Test
    void delayFreeKeepsBlocksAndCarriesParams() {
        var params = TransferParams.of(Map.of("remote_engine", "prefill-0"));
        var r = FinishResult.delayFree(params);
        assertTrue(r.delayFree());
        assertEquals(params, r.params());
    }

    @Test
    void nullParamsRejected() {
        assertThrows(NullPointerException.class, () -> FinishResult.delayFree(null));
        assertThrows(NullPointerException.class, () -> new FinishResult(false, null));
    }
}
