/**
 * Test doubles of the engine's views, for connector unit tests that call one side of a connector
 * hook by hook: {@link io.kvconnect.testkit.doubles.FakeRequest} ({@code RequestView}), {@link
 * io.kvconnect.testkit.doubles.FakeSchedulerState} ({@code SchedulerState}) with {@link
 * io.kvconnect.testkit.doubles.FakeBlockPool} ({@code GPUBlockPoolView}), {@link
 * io.kvconnect.testkit.doubles.FakeSchedulerOutput} ({@code SchedulerOutputView}) and {@link
 * io.kvconnect.testkit.doubles.ManualCopyService} ({@code BlockCopyService}).
 *
 * <p>Each double keeps what the engine's real view promises where a connector could tell the
 * difference (a pool view counts the connector's references and refuses a free it does not hold;
 * a request's state changes between hooks, as the engine's does), and states in its javadoc what
 * it leaves out. Whether a connector works in a real engine is the conformance kit's question
 * ({@code io.kvconnect.testkit.ConnectorConformance}), not theirs.
 *
 * <p>Who may depend on it: tests only (a connector's, the test kit's, the engine's); no main code
 * of a plugin or of the engine.
 */
package io.kvconnect.testkit.doubles;
