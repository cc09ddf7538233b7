package io.kvconnect.nixl.transport;

import org.junit.jupiter.api.Assumptions;

/**
 * Skips a test that needs UCX where UCX does not work here, saying why and how to run it. The
 * message is the same for every UCX test of a run, so the run's summary ({@code ./kvconnect test})
 * counts them under one reason.
 */
public final class NeedsUcx {
    private NeedsUcx() {}

    /** Skips the calling test unless UCX works in this process; called first thing in the test. */
    public static void assumeUcx() {
        var a = UcxTransport.availability();
        Assumptions.assumeTrue(
                a.available(),
                () -> "needs UCX, not available here: " + a.reason()
                        + "; bash .ci/run installs UCX, then these tests run");
    }
}
