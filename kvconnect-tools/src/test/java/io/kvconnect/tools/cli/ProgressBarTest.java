package io.kvconnect.tools.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** The progress bar's output on a terminal and in a log, driven by a fake clock. */
class ProgressBarTest {
    private static final long MS = 1_000_000L;

    private final StringWriter text = new StringWriter();
    private long now;

    @Test
    void interactiveRedrawsInPlaceAtMostEvery100Ms() {
        ProgressBar bar = bar("run", 300, true);

        bar.update(0);
        now += 50 * MS;
        bar.update(50); // throttled
        now += 50 * MS;
        bar.update(111);
        now += 99 * MS;
        bar.update(200); // throttled
        bar.finish();

        assertEquals(
                "\rrun [..............................]   0% 0/300"
                        + "\rrun [###########...................]  37% 111/300"
                        + "\rrun [##############################] 100% 300/300\n",
                text.toString());
    }

    @Test
    void interactiveFinishIsPrintedOnceAndLaterUpdatesAreIgnored() {
        ProgressBar bar = bar("x", 10, true);

        bar.finish();
        bar.finish();
        now += 500 * MS;
        bar.update(3);

        assertEquals("\rx [##############################] 100% 10/10\n", text.toString());
    }

    @Test
    void interactiveClampsOutOfRangeProgress() {
        ProgressBar bar = bar("x", 10, true);

        bar.update(-5);
        now += 100 * MS;
        bar.update(25);

        assertEquals(
                "\rx [..............................]   0% 0/10" + "\rx [##############################] 100% 10/10",
                text.toString());
    }

    @Test
    void plainPrintsOneLinePerTenPercentWithoutCarriageReturns() {
        ProgressBar bar = bar("load", 300, false);

        for (int done = 0; done <= 299; done++) {
            bar.update(done);
        }
        bar.finish();

        var expected = new StringBuilder();
        for (int step = 0; step <= 9; step++) {
            expected.append("load ")
                    .append(String.format(Locale.ROOT, "%3d%%", step * 10))
                    .append(' ')
                    .append(step * 30)
                    .append("/300\n");
        }
        expected.append("load 100% 300/300\n");
        assertEquals(expected.toString(), text.toString());
    }

    @Test
    void plainSkipsStepsWhenProgressJumpsAndIgnoresTheClock() {
        ProgressBar bar = bar("job", 300, false);

        bar.update(111);
        bar.update(112); // same 10% step
        bar.update(299);
        bar.finish();

        assertEquals("job  37% 111/300\njob  99% 299/300\njob 100% 300/300\n", text.toString());
    }

    @Test
    void plainFinishDoesNotRepeatACompleteLine() {
        ProgressBar bar = bar("job", 4, false);

        bar.update(4);
        bar.finish();
        bar.finish();

        assertEquals("job 100% 4/4\n", text.toString());
    }

    @Test
    void anEmptyJobIsComplete() {
        ProgressBar bar = bar("none", 0, true);

        bar.update(0);
        bar.finish();

        assertEquals(
                "\rnone [##############################] 100% 0/0"
                        + "\rnone [##############################] 100% 0/0\n",
                text.toString());
    }

    @Test
    void aHugeTotalDoesNotOverflow() {
        ProgressBar bar = bar("big", Long.MAX_VALUE, false);

        bar.update(Long.MAX_VALUE / 2);
        bar.finish();

        assertEquals(
                "big  50% " + Long.MAX_VALUE / 2 + "/" + Long.MAX_VALUE + "\nbig 100% " + Long.MAX_VALUE + "/"
                        + Long.MAX_VALUE + "\n",
                text.toString());
    }

    @Test
    void aNegativeTotalIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> bar("x", -1, true));
    }

    private ProgressBar bar(String label, long total, boolean interactive) {
        return new ProgressBar(new PrintWriter(text), label, total, interactive, () -> now);
    }
}
