/** What the engine shows an operator while and after it runs a workload. */
package io.kvconnect.core.report;
