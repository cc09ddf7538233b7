/**
 * The launcher's command line: the engine's commands, the main job ({@code run}) and the commands
 * that drive engines from outside the engine, such as {@code soak} and prefill/decode
 * disaggregation ({@code disagg} and the {@code serve} processes it starts). {@code ./kvconnect}
 * runs {@code io.kvconnect.tools.cli.Main} of this module.
 *
 * <p>Everything here that knows a bundled connector by name lives here and not in the engine
 * ({@code kvconnect.core}), which names none: {@code run}'s default configuration (the offload
 * connector beside a run without it), the disaggregation router, {@code serve}. Connectors are
 * still found through the engine's discovery (module path, class path, plugins directory); this
 * module links no plugin.
 *
 * <p>{@code run}'s HTML report draws its charts with JFreeChart as PNG images, so this module,
 * and not the engine, reads {@code java.desktop}.
 *
 * <p>{@code run --capacity-report} and {@code plan} judge a connector's tier against the optimal
 * offline policy and LRU and ARC at every capacity (package {@code io.kvconnect.tools.capacity}),
 * and draw the curves with JFreeChart too.
 *
 * <p>Exports nothing: it is an application, not a library.
 */
// JFreeChart ships no module descriptor, only an Automatic-Module-Name: accepted deliberately.
@SuppressWarnings("requires-automatic")
module kvconnect.tools {
    requires kvconnect.api;
    // The engine's internals, exported to this module by name (see kvconnect.core's module-info).
    requires kvconnect.core;
    // The soak command runs the kit's Soak.
    requires kvconnect.testkit;
    requires com.fasterxml.jackson.databind;
    requires info.picocli;
    // run --html: the charts, drawn with Java2D and written as PNG.
    requires java.desktop;
    requires org.jfree.jfreechart;

    // picocli builds the commands from their annotations by reflection.
    opens io.kvconnect.tools.cli to
            info.picocli;
}
