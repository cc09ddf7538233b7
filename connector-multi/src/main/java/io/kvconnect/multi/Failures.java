package io.kvconnect.multi;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Child failures collected while the composite calls every child, thrown together afterwards.
 *
 * <p>Every child is called even when an earlier one throws, so one broken child cannot starve the
 * others of a hook they rely on (a store that must start, a buffer that must close). The failures
 * then come back as one exception: the first, with the others attached as suppressed exceptions,
 * each naming its child.
 *
 * <p>Also used as the <em>deferred</em> list of the scheduler side: failures of hooks whose healthy
 * results must not be lost by throwing (a delayed free, another child's metadata) are kept here and
 * thrown by the side's next hook that returns nothing and concerns no request. The worker side's
 * step report names its children's failures instead ({@link #combined()}). At most {@value
 * #MAX_KEPT} are kept; the rest are counted, so a child that throws every step cannot grow memory.
 *
 * <p>Not thread-safe: each connector side owns its instances and uses them from its own thread.
 */
final class Failures {
    static final int MAX_KEPT = 16;

    private final List<ChildFailedException> kept = new ArrayList<>(0);
    private int dropped;

    /** Records that child {@code child} failed in {@code hook} with {@code error}. */
    void record(String child, String hook, Throwable error) {
        add(new ChildFailedException(child, hook, error));
    }

    /** Moves every failure of {@code other} here (other is then empty). */
    void takeAll(Failures other) {
        for (ChildFailedException e : other.kept) {
            add(e);
        }
        dropped += other.dropped;
        other.kept.clear();
        other.dropped = 0;
    }

    /** Whether anything failed. */
    boolean any() {
        return !kept.isEmpty();
    }

    /**
     * Throws the failures as one exception (the first, the rest suppressed) and forgets them; does
     * nothing if there are none.
     */
    void throwIfAny() {
        Optional<ChildFailedException> all = combined();
        if (all.isPresent()) {
            throw all.get();
        }
    }

    /**
     * The failures as one exception (the first, the rest suppressed), for a hook that reports them
     * instead of throwing; forgets them.
     *
     * @return the exception, or empty if nothing failed
     */
    Optional<ChildFailedException> combined() {
        if (kept.isEmpty()) {
            return Optional.empty();
        }
        ChildFailedException first = kept.getFirst();
        for (int i = 1; i < kept.size(); i++) {
            first.addSuppressed(kept.get(i));
        }
        if (dropped > 0) {
            first.addSuppressed(new IllegalStateException(dropped + " further child failure(s) were not kept"));
        }
        kept.clear();
        dropped = 0;
        return Optional.of(first);
    }

    private void add(ChildFailedException e) {
        if (kept.size() < MAX_KEPT) {
            kept.add(e);
        } else {
            dropped++;
        }
    }
}
