package io.kvconnect.disk;

import java.io.IOException;

/** Opens the {@link BlockStore} of one rank; tests put failures in front of the real one. */
@FunctionalInterface
interface BlockStoreFactory {
    /**
     * Opens (creating it if missing) the rank's folder and deletes temporary files a crashed process
     * left there.
     *
     * @throws IOException if the folder cannot be created or written
     */
    BlockStore open(StoreSettings settings) throws IOException;
}
