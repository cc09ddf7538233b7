/**
 * The {@code multi} connector: composes child connectors named in its configuration. {@code
 * MultiScheduler} and {@code MultiWorker} call every child and route loads, saves, metadata,
 * stats, events and failures per child; the {@code Child*} classes are the per-child views that
 * keep one child's state from another. Module-private: nothing here is exported, and it depends on
 * the connector API alone (children are found through the engine's catalog).
 */
package io.kvconnect.multi;
