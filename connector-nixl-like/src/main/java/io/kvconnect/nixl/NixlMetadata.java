package io.kvconnect.nixl;

import io.kvconnect.api.common.ConnectorMetadata;
import java.util.List;
import java.util.Set;

/**
 * One step's instructions from the scheduler side to every worker. Immutable: the arrays inside
 * are copies that nobody writes after construction.
 *
 * @param expose producer: finished prefills whose blocks readers may now read, each under a lease
 * @param loads consumer: loads to start (each worker reads its own rank's share)
 * @param notifications consumer: transfers this engine will not read (aborted before its load, or the
 *     whole prefix was a local hit), so the producer frees the blocks without waiting for the lease
 * @param cancel consumer: requests that finished while their load was in flight; stop reading
 */
record NixlMetadata(List<Expose> expose, List<Load> loads, List<Notify> notifications, Set<String> cancel)
        implements ConnectorMetadata {

    NixlMetadata {
        expose = List.copyOf(expose);
        loads = List.copyOf(loads);
        notifications = List.copyOf(notifications);
        cancel = Set.copyOf(cancel);
    }

    /** Whether there is nothing to say. */
    boolean isEmpty() {
        return expose.isEmpty() && loads.isEmpty() && notifications.isEmpty() && cancel.isEmpty();
    }

    /**
     * A finished prefill's blocks, readable under transfer id {@code transferId}.
     *
     * @param requestId the producer's request id (reported in finished sends)
     * @param transferId the unique id readers name
     * @param token the transfer's token, which readers must present
     * @param blocks the GPU block ids readers may read
     * @param deadline when the lease ends unless a read renews it: set when the response left
     *     (on the scheduler side's clock, which is the workers' clock), not when the workers
     *     learn of it a step later
     */
    record Expose(String requestId, String transferId, String token, int[] blocks, java.time.Instant deadline) {
        Expose {
            blocks = blocks.clone();
        }

        /** Without the token. */
        @Override
        public String toString() {
            return "Expose[requestId=" + requestId + ", transferId=" + transferId + ", blocks=" + blocks.length
                    + ", deadline=" + deadline + "]";
        }
    }

    /**
     * A load of remote blocks into local blocks, position by position.
     *
     * @param requestId the consumer's request id (reported in finished receives)
     * @param loadId unique per load within the engine; a report of an older load of the same
     *     request id is not taken for this one
     * @param remote where to read from
     * @param localBlocks this engine's GPU block ids to fill
     * @param remoteBlocks the producer's block ids, same length
     */
    record Load(String requestId, long loadId, RemoteParams remote, int[] localBlocks, int[] remoteBlocks) {
        Load {
            localBlocks = localBlocks.clone();
            remoteBlocks = remoteBlocks.clone();
            if (localBlocks.length != remoteBlocks.length) {
                throw new IllegalArgumentException("local and remote block lists differ in length");
            }
        }
    }

    /**
     * "This engine will not read the transfer."
     *
     * @param requestId the consumer's request id, for logs
     * @param remote the transfer
     */
    record Notify(String requestId, RemoteParams remote) {}
}
