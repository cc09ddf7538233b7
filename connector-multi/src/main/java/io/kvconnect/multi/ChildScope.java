package io.kvconnect.multi;

import io.kvconnect.api.common.TransferParams;
import io.kvconnect.api.scheduler.RequestView;
import io.kvconnect.api.scheduler.ScheduledRequest;
import io.kvconnect.api.scheduler.SchedulerOutputView;
import io.kvconnect.api.scheduler.SchedulerState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one child of the scheduler side sees of the engine: its pool view and scheduler view, and
 * requests with its own transfer parameters.
 *
 * <p><b>Transfer parameters.</b> The composite returns its children's parameters nested under each
 * child's key ({@code {"0:nixl": {...}, "1:offload": {...}}}, see {@link
 * MultiScheduler#requestFinished}). A request arriving with such parameters (the decode engine's
 * side of the exchange) is shown to child {@code key} with the object under its key as its
 * parameters. Failing that, the object under the one key naming the same connector at another
 * index is shown (the sending engine ordered its children differently, {@code 0:nixl} there being
 * {@code 1:nixl} here); a request whose parameters have neither (they came from a single
 * connector, say) is shown as it is. Requests without parameters, the usual case, are passed
 * through without any wrapper, so this costs nothing on the hot path.
 *
 * <p>Scheduler thread only.
 */
final class ChildScope {
    private final int index;
    private final String key;
    private ChildPoolView pool;

    ChildScope(int index, String key) {
        this.index = index;
        this.key = key;
    }

    /** The child's position in the configuration. */
    int index() {
        return index;
    }

    /** The child's instance key, such as {@code 1:offload}. */
    String key() {
        return key;
    }

    /**
     * Makes the child's scheduler view over the engine's {@code shared} one, its references
     * counted in {@code references} (one for all children of the composite).
     */
    SchedulerState bind(SchedulerState shared, ChildReferences references) {
        pool = new ChildPoolView(references, index, key);
        return new ChildSchedulerState(shared, this, pool);
    }

    /** The child's pool view, {@code null} before {@link #bind}. */
    ChildPoolView pool() {
        return pool;
    }

    /** {@code request} as this child sees it. */
    RequestView view(RequestView request) {
        TransferParams own = ownParams(request);
        return own == null ? request : new ChildRequestView(request, own);
    }

    /** {@code requests} as this child sees them; the same list when no request needs a view of its own. */
    List<RequestView> views(List<RequestView> requests) {
        List<RequestView> out = null;
        for (int i = 0; i < requests.size(); i++) {
            RequestView r = requests.get(i);
            RequestView mine = view(r);
            if (mine != r && out == null) {
                out = new ArrayList<>(requests.subList(0, i));
            }
            if (out != null) {
                out.add(mine);
            }
        }
        return out == null ? requests : List.copyOf(out);
    }

    /** {@code output} as this child sees it; the same object when no scheduled request needs a view of its own. */
    SchedulerOutputView output(SchedulerOutputView output) {
        // The scan reads requests by index: the list's entries are built only for a child that
        // needs a view of its own (or later, by a child that reads the list itself).
        int n = output.numScheduledRequests();
        int firstOwn = -1;
        RequestView firstView = null;
        for (int i = 0; i < n; i++) {
            RequestView r = output.requestAt(i);
            RequestView v = view(r);
            if (v != r) {
                firstOwn = i;
                firstView = v; // kept: view() copies the nested parameters, once is enough
                break;
            }
        }
        if (firstView == null) {
            return output;
        }
        List<ScheduledRequest> scheduled = output.scheduledRequests();
        List<ScheduledRequest> mine = new ArrayList<>(scheduled.subList(0, firstOwn));
        for (int i = firstOwn; i < n; i++) {
            ScheduledRequest sr = scheduled.get(i);
            RequestView view = i == firstOwn ? firstView : view(sr.request());
            mine.add(
                    view == sr.request()
                            ? sr
                            : new ScheduledRequest(
                                    view,
                                    sr.kind(),
                                    sr.numScheduledTokens(),
                                    sr.numComputedTokensBefore(),
                                    sr.newBlockIds()));
        }
        return new ChildOutputView(
                output.step(),
                mine,
                output.preemptedRequestIds(),
                output.finishedRequestIds(),
                output.totalScheduledTokens());
    }

    /**
     * The object under this child's key in the request's parameters; failing that, the object under
     * the one key naming the same connector at another index (the other engine orders its children
     * differently: its {@code 0:nixl-like} is this engine's {@code 1:nixl-like}); else {@code null}
     * to show the parameters as they are. With two or more such keys and none exactly this child's,
     * nothing is guessed.
     */
    private TransferParams ownParams(RequestView request) {
        TransferParams params = request.transferParams();
        if (params.isEmpty()) {
            return null;
        }
        Object mine = params.asMap().get(key);
        if (mine == null) {
            mine = sameConnector(params.asMap());
        }
        if (!(mine instanceof Map<?, ?> nested)) {
            return null;
        }
        Map<String, Object> copy = new LinkedHashMap<>();
        nested.forEach((k, v) -> copy.put(String.valueOf(k), v));
        return TransferParams.of(copy);
    }

    /** The value of the only key {@code <index>:<this child's connector name>} in {@code params}, or {@code null}. */
    private Object sameConnector(Map<String, Object> params) {
        String suffix = key.substring(key.indexOf(':'));
        Object found = null;
        for (Map.Entry<String, Object> e : params.entrySet()) {
            String k = e.getKey();
            int colon = k.indexOf(':');
            if (colon > 0 && k.endsWith(suffix) && k.length() == colon + suffix.length() && isIndex(k, colon)) {
                if (found != null) {
                    return null; // ambiguous: two children of this type on the other engine
                }
                found = e.getValue();
            }
        }
        return found;
    }

    private static boolean isIndex(String k, int colon) {
        for (int i = 0; i < colon; i++) {
            if (k.charAt(i) < '0' || k.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }
}
