package io.kvconnect.api;

/** The context of a scheduler-side connector. */
@Stability(value = Stability.Level.EVOLVING, since = "0.1")
public interface SchedulerContext extends ConnectorContext {
    /**
     * {@return the same context for a child connector, for composites} Its {@link #instanceName()}
     * is this one's followed by {@code "." + childName}; everything else is shared.
     *
     * @param childName the child's name, unique among this connector's children
     */
    SchedulerContext child(String childName);
}
