/**
 * The kvconnect connector SPI.
 *
 * <p>At run time this module depends on {@code java.base} only, and it exports nothing but its API
 * packages:
 * <ul>
 *   <li>{@link io.kvconnect.api} — the entry points: the provider found by
 *       {@link java.util.ServiceLoader}, the contexts it is given and the catalog of
 *       connectors; and the {@link io.kvconnect.api.Stability} marker every API type carries;</li>
 *   <li>{@link io.kvconnect.api.common} — what both roles share: configuration, identifiers,
 *       metadata, output, stats and KV events;</li>
 *   <li>{@link io.kvconnect.api.scheduler} — the scheduler-side role and its read-only views;</li>
 *   <li>{@link io.kvconnect.api.worker} — the worker-side role, the KV layout and the block-copy
 *       service (no CUDA type appears here).</li>
 * </ul>
 * A connector plugin {@code requires kvconnect.api}, {@code provides
 * io.kvconnect.api.ConnectorProvider} and exports nothing. Package dependencies point one way:
 * root → scheduler, worker → common (every package uses the root's {@code @Stability}, an
 * annotation, not a code dependency).
 *
 * <p>Every package is {@code @NullMarked} (JSpecify): a parameter, return value or field is never
 * null unless its type is annotated {@code @Nullable}. The annotations are needed to compile this
 * module only ({@code requires static}); a connector neither needs nor sees them at run time, and
 * compiles against this API without them.
 */
module kvconnect.api {
    // Compile time only: the nullness annotations. Not resolved at run time, where the module
    // graph holds no org.jspecify and the annotations are ignored.
    requires static org.jspecify;

    exports io.kvconnect.api;
    exports io.kvconnect.api.common;
    exports io.kvconnect.api.scheduler;
    exports io.kvconnect.api.worker;
}
