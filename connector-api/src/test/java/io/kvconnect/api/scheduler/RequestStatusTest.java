package io.kvconnect.api.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.EnumSet;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class RequestStatusTest {
    @Test
    void isFinishedForEveryConstant() {
        Map<RequestStatus, Boolean> expected = Map.of(
                RequestStatus.WAITING, false,
                RequestStatus.WAITING_FOR_REMOTE_KV, false,
                RequestStatus.RUNNING, false,
                RequestStatus.PREEMPTED, false,
                RequestStatus.FINISHED_STOPPED, true,
                RequestStatus.FINISHED_LENGTH_CAPPED, true,
                RequestStatus.FINISHED_ABORTED, true,
                RequestStatus.FINISHED_ERROR, true);
        assertEquals(
                EnumSet.allOf(RequestStatus.class),
                EnumSet.copyOf(expected.keySet()),
                "a new constant needs an expectation here");
        Map<RequestStatus, Boolean> actual =
                Stream.of(RequestStatus.values()).collect(Collectors.toMap(s -> s, RequestStatus::isFinished));
        assertEquals(expected, actual);
    }
}
