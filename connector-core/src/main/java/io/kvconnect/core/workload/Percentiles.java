package io.kvconnect.core.workload;

import java.util.Arrays;

/**
 * Collects samples (latencies, say) and answers percentiles, mean and maximum. Samples are kept in
 * a growable {@code double[]}, so adding one allocates nothing until the array must grow.
 *
 * <p>Percentiles interpolate linearly between the closest ranks (the default of NumPy and
 * Excel's PERCENTILE.INC): with the {@code n} samples sorted as {@code x[0..n-1]}, percentile
 * {@code p} is read at fractional index {@code p / 100 * (n - 1)}. So p0 is the minimum, p100 the
 * maximum and p50 of an even count the mean of the two middle samples.
 *
 * <p>Not thread-safe: collect from one thread, or guard it.
 */
public final class Percentiles {
    private static final int INITIAL_CAPACITY = 64;

    private double[] samples = new double[INITIAL_CAPACITY];
    private int count;
    private boolean sorted = true;
    private double sum;
    private double max = Double.NaN;

    /** An empty collector. */
    public Percentiles() {}

    /**
     * Adds one sample.
     *
     * @throws IllegalArgumentException if {@code value} is NaN or infinite
     */
    public void add(double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException("sample " + value + " is not finite");
        }
        if (count == samples.length) {
            samples = Arrays.copyOf(samples, samples.length * 2);
        }
        samples[count++] = value;
        sorted = count == 1 || (sorted && value >= samples[count - 2]);
        sum += value;
        max = count == 1 ? value : Math.max(max, value);
    }

    /** How many samples were added. */
    public int count() {
        return count;
    }

    /**
     * The {@code p}-th percentile, linearly interpolated (see the class description).
     *
     * @param p the percentile, in [0, 100]
     * @return the percentile, or NaN when there are no samples
     * @throws IllegalArgumentException if {@code p} is outside [0, 100] or NaN
     */
    public double percentile(double p) {
        if (!(p >= 0 && p <= 100)) {
            throw new IllegalArgumentException("percentile " + p + " is outside [0, 100]");
        }
        if (count == 0) {
            return Double.NaN;
        }
        if (!sorted) {
            // Sorting in place is fine: the order of the samples carries no meaning.
            Arrays.sort(samples, 0, count);
            sorted = true;
        }
        double rank = p / 100 * (count - 1);
        int below = (int) Math.floor(rank);
        int above = Math.min(below + 1, count - 1);
        double fraction = rank - below;
        return samples[below] + fraction * (samples[above] - samples[below]);
    }

    /** Every sample, in ascending order: a copy (for drawing a distribution). */
    public double[] sortedSamples() {
        double[] copy = Arrays.copyOf(samples, count);
        Arrays.sort(copy);
        return copy;
    }

    /** The arithmetic mean, or NaN when there are no samples. */
    public double mean() {
        return count == 0 ? Double.NaN : sum / count;
    }

    /** The largest sample, or NaN when there are no samples. */
    public double max() {
        return max;
    }
}
