/**
 * The sample {@code hello} connector, written against the connector API alone as a third-party
 * author would: it audits prefix lookups and counts what it sees, and moves no KV.
 */
package com.example.hello;
