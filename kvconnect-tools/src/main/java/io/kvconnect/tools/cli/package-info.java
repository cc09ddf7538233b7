/**
 * The launcher's command line ({@link io.kvconnect.tools.cli.Main}): the engine's commands and
 * the ones that drive engines from outside it, such as {@code soak}, prefill/decode
 * disaggregation ({@code disagg}, which starts two engine processes with {@code serve}, routes
 * between them and prints the disaggregation summary, {@code DisaggReport}), and the engine JVM's
 * options that every engine process starts with.
 *
 * <p>Nothing depends on this package: {@code kvconnect.tools} exports nothing, and opens it to
 * picocli only, which builds the commands from their annotations.
 */
package io.kvconnect.tools.cli;
