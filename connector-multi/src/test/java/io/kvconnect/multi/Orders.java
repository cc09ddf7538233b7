package io.kvconnect.multi;

import io.kvconnect.api.common.ConnectorMetadata;

/** Scheduler-to-worker metadata of a fake child: whose it is, so a worker can tell it got the right slot. */
record Orders(String child) implements ConnectorMetadata {}
