package io.kvconnect.tools.capacity;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * The sequence of a host tier's block accesses during a run, in engine blocks, in the order the
 * scheduler made them. Two kinds of access:
 *
 * <ul>
 *   <li>a {@link Lookup}: a request was admitted and the tier was asked for its prompt's full
 *       blocks beyond the GPU prefix hit, in prefix order (the chain); {@code observedHits} is how
 *       many of them, from the first, the connector actually loaded;
 *   <li>an {@link Offer}: blocks of a request became KV-confirmed (computed, or held in the GPU
 *       prefix cache) and could be stored in the tier, without this request having asked the tier
 *       for them (a block the request looked up and missed is not offered again: in the reference
 *       model the lookup itself may insert it).
 * </ul>
 *
 * <p>Blocks are the first 64 bits of their hash, which tell the blocks of one run apart (a
 * collision in a trace of a million blocks has a chance of about 10<sup>-7</sup>).
 *
 * <p>File format (text, UTF-8, one access per line): a header line {@code # kvconnect tier trace
 * v1 block_size=N tier_blocks=C} ({@code tier_blocks=0}: the capacity is not known), then {@code L <observed hits> <hex>...} for a lookup and {@code O <hex>...} for
 * an offer, each block as 16 hexadecimal digits; blank lines and other lines starting with {@code
 * #} are ignored.
 *
 * @param blockSize tokens per block
 * @param recordedCapacity the capacity in engine blocks of the tier the trace was recorded on, whose
 *     loads the lookups' observed hits are; 0 if not known
 * @param accesses the accesses, in order
 */
public record TierTrace(int blockSize, int recordedCapacity, List<Access> accesses) {
    static final String HEADER = "# kvconnect tier trace v1 block_size=";

    /** Checks and copies. */
    public TierTrace {
        if (blockSize < 1) {
            throw new IllegalArgumentException("blockSize must be >= 1, got " + blockSize);
        }
        if (recordedCapacity < 0) {
            throw new IllegalArgumentException("recordedCapacity must be >= 0, got " + recordedCapacity);
        }
        accesses = List.copyOf(accesses);
    }

    /** One access of the tier. */
    public sealed interface Access permits Lookup, Offer {
        /** The blocks, in prefix order. */
        long[] blocks();
    }

    /**
     * A request's lookup of the blocks beyond its GPU prefix hit.
     *
     * @param blocks the chain asked for, in prefix order
     * @param observedHits how many of them, from the first, the connector loaded
     */
    public record Lookup(long[] blocks, int observedHits) implements Access {
        /** Checks. */
        public Lookup {
            Objects.requireNonNull(blocks, "blocks");
            if (observedHits < 0 || observedHits > blocks.length) {
                throw new IllegalArgumentException(
                        "observedHits " + observedHits + " outside 0.." + blocks.length + " blocks");
            }
        }
    }

    /**
     * Blocks that could be stored without having been asked for.
     *
     * @param blocks the blocks, in prefix order
     */
    public record Offer(long[] blocks) implements Access {
        /** Checks. */
        public Offer {
            Objects.requireNonNull(blocks, "blocks");
        }
    }

    /** Block lookups of the trace (the length of every lookup's chain, summed). */
    public long lookedUpBlocks() {
        long n = 0;
        for (Access a : accesses) {
            if (a instanceof Lookup l) {
                n += l.blocks().length;
            }
        }
        return n;
    }

    /** Blocks the connector loaded, summed over the lookups. */
    public long observedHits() {
        long n = 0;
        for (Access a : accesses) {
            if (a instanceof Lookup l) {
                n += l.observedHits();
            }
        }
        return n;
    }

    /** Writes the trace in the file format above. */
    public void write(Path file) throws IOException {
        HexFormat hex = HexFormat.of();
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write(HEADER + blockSize + " tier_blocks=" + recordedCapacity);
            w.newLine();
            for (Access a : accesses) {
                StringBuilder line = new StringBuilder(a.blocks().length * 17 + 8);
                if (a instanceof Lookup l) {
                    line.append("L ").append(l.observedHits());
                } else {
                    line.append('O');
                }
                for (long b : a.blocks()) {
                    line.append(' ').append(hex.toHexDigits(b));
                }
                w.write(line.toString());
                w.newLine();
            }
        }
    }

    /**
     * Reads a trace written by {@link #write}.
     *
     * @throws IllegalArgumentException naming the file and line if it is not such a trace
     * @throws UncheckedIOException if it cannot be read
     */
    public static TierTrace read(Path file) {
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String first = r.readLine();
            if (first == null || !first.startsWith(HEADER)) {
                throw new IllegalArgumentException(
                        file + ": not a tier trace (the first line must start with '" + HEADER + "')");
            }
            String[] header = first.substring(HEADER.length()).trim().split(" +");
            int blockSize = parseInt(file, 1, header[0]);
            int recordedCapacity = 0;
            if (header.length > 1 && header[1].startsWith("tier_blocks=")) {
                recordedCapacity = parseInt(file, 1, header[1].substring("tier_blocks=".length()));
            }
            List<Access> accesses = new ArrayList<>();
            String line;
            int number = 1;
            while ((line = r.readLine()) != null) {
                number++;
                line = line.strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                accesses.add(parseLine(file, number, line));
            }
            return new TierTrace(blockSize, recordedCapacity, accesses);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file", e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Access parseLine(Path file, int number, String line) {
        String[] parts = line.split(" +");
        int from;
        switch (parts[0]) {
            case "L" -> from = 2;
            case "O" -> from = 1;
            default ->
                throw new IllegalArgumentException(
                        file + ":" + number + ": expected 'L' or 'O', got '" + parts[0] + "'");
        }
        if (parts.length < from) {
            throw new IllegalArgumentException(file + ":" + number + ": a lookup needs its observed hits");
        }
        long[] blocks = new long[parts.length - from];
        for (int i = from; i < parts.length; i++) {
            String h = parts[i];
            if (h.length() != 16) {
                throw new IllegalArgumentException(
                        file + ":" + number + ": block '" + h + "' is not 16 hexadecimal digits");
            }
            try {
                blocks[i - from] = HexFormat.fromHexDigitsToLong(h);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        file + ":" + number + ": block '" + h + "' is not 16 hexadecimal digits", e);
            }
        }
        if (from == 1) {
            return new Offer(blocks);
        }
        int hits = parseInt(file, number, parts[1]);
        if (hits > blocks.length) {
            throw new IllegalArgumentException(
                    file + ":" + number + ": " + hits + " observed hits but only " + blocks.length + " blocks");
        }
        return new Lookup(blocks, hits);
    }

    private static int parseInt(Path file, int number, String s) {
        try {
            int v = Integer.parseInt(s);
            if (v < 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(file + ":" + number + ": '" + s + "' is not a count", e);
        }
    }
}
