/**
 * The connector test kit: {@link io.kvconnect.testkit.ConnectorConformance} (lifecycle scenarios
 * in a real, small, verifying engine), {@link io.kvconnect.testkit.KitEngine} (such an engine
 * whose loop the test drives, for connectors that need two engines), {@link
 * io.kvconnect.testkit.Soak} with {@link io.kvconnect.testkit.FaultPlan} (randomized rounds with
 * injected faults), and their results.
 *
 * <p>Who may depend on it: connectors' tests (test scope), and the launcher's {@code soak}
 * command. The fault decorators, the fault injector and the kit's catalog are package-private:
 * how the kit injects a fault is not part of its contract.
 */
package io.kvconnect.testkit;
