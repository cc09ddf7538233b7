package io.kvconnect.disk;

import java.nio.file.Path;

/**
 * What a {@link BlockStore} needs to know.
 *
 * @param folder the rank's folder
 * @param namespace the namespace id written in every header
 * @param rank the worker's rank
 * @param payloadBytes bytes of one block on this rank
 * @param fsync whether files and the folder are forced to the device before a block counts as written
 * @param directIo whether to try direct I/O
 */
record StoreSettings(Path folder, long namespace, int rank, long payloadBytes, boolean fsync, boolean directIo) {}
