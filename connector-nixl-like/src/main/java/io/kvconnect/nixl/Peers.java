package io.kvconnect.nixl;

import java.net.InetAddress;
import java.util.List;
import java.util.Locale;

/**
 * The producers a consumer may connect to: the configuration's {@code peers}, host names and IP
 * addresses. A transfer's {@code remote_host} comes from the request (the router hands it on from
 * the prefill's response), so it is checked against this list before any connection: otherwise
 * whoever can shape a request could make the decode engine connect anywhere. Immutable.
 *
 * <p>Matching never resolves names: an IP address matches an entry that is the same address (in
 * any of its textual forms, such as {@code ::1} and {@code 0:0:0:0:0:0:0:1}); a host name matches an
 * entry that is the same name, ignoring case.
 *
 * @param entries the allowed hosts, as configured
 */
record Peers(List<String> entries) {
    /** Loopback only: what a producer on the same machine announces by default. */
    static final Peers LOOPBACK = new Peers(List.of("127.0.0.1", "::1", "localhost"));

    Peers {
        entries = List.copyOf(entries);
        for (String e : entries) {
            if (e.isBlank()) {
                throw new IllegalArgumentException("an empty host");
            }
        }
    }

    /** Whether {@code host} is one of the entries. */
    boolean allows(String host) {
        InetAddress address = literal(host);
        for (String e : entries) {
            InetAddress allowed = literal(e);
            if (address != null
                    ? address.equals(allowed)
                    : allowed == null
                            && e.strip()
                                    .toLowerCase(Locale.ROOT)
                                    .equals(host.strip().toLowerCase(Locale.ROOT))) {
                return true;
            }
        }
        return false;
    }

    /** {@code host} as an IP address if it is an address literal (no name lookup), else null. */
    private static InetAddress literal(String host) {
        String h = host.strip();
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        try {
            return InetAddress.ofLiteral(h);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * {@code text} (a host, a transfer id: a request's or a peer's word) fit for a log line:
     * control characters replaced, at most 255 characters.
     */
    static String printable(String text) {
        String h = text.length() > 255 ? text.substring(0, 255) + "..." : text;
        return h.codePoints()
                .map(c -> Character.isISOControl(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                .toString();
    }

    @Override
    public String toString() {
        return String.join(", ", entries);
    }
}
