package io.kvconnect.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SparseLogTest {
    @Test
    void logsTheFirstSecondFourthEighthOfEachKind() {
        SparseLog sparse = new SparseLog();
        List<Long> logged = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            long n = sparse.due("write");
            if (n > 0) {
                logged.add(n);
            }
        }
        assertEquals(List.of(1L, 2L, 4L, 8L, 16L, 32L, 64L, 128L, 256L, 512L), logged);
        assertEquals(1, sparse.due("read"), "kinds are counted apart");
    }
}
