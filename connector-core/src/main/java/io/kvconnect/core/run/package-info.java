/**
 * Running an engine end to end: building it from a validated configuration and the discovered
 * connectors, feeding it a workload in modelled time, and the end report (as text and JSON,
 * {@code RunReport}, and as typed figures for comparisons and charts, {@code RunFigures}).
 *
 * <p>Used by the command line, the conformance kit and the benchmarks; depends on the engine, the
 * configuration, plugins and workloads.
 */
@NullMarked
package io.kvconnect.core.run;

import org.jspecify.annotations.NullMarked;
