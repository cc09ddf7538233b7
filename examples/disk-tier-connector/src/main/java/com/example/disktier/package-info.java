/**
 * The sample {@code disk-tier} connector, written against the connector API alone as a third-party
 * author would: full, KV-confirmed blocks of finished requests go to one file per block and worker
 * (named by the block's chained hash), and a later request whose prefix they hold loads them back
 * synchronously. {@link com.example.disktier.DiskTierConnectorProvider} describes the configuration;
 * the classes are {@link com.example.disktier.DiskTierScheduler} (scheduler side: what is on disk,
 * what to store, load and evict), {@link com.example.disktier.DiskTierWorker} (worker side: the
 * copies and the files), {@link com.example.disktier.BlockFiles} (the file format) and {@link
 * com.example.disktier.DiskIndex} (the scheduler side's table of blocks on disk).
 */
package com.example.disktier;
