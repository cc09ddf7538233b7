package io.kvconnect.core.sched;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ContainedThrowableTest {
    @Test
    void theCopyReadsLikeTheOriginalWithItsCausesAndSuppressed() {
        IOException cause = new IOException("disk gone");
        IllegalStateException original = new IllegalStateException("store failed", cause);
        original.addSuppressed(new IllegalArgumentException("cleanup"));

        Throwable copy = ContainedThrowable.of(original);

        assertEquals(original.toString(), copy.toString());
        assertEquals(original.getMessage(), copy.getMessage());
        assertArrayEquals(original.getStackTrace(), copy.getStackTrace());
        assertNotNull(copy.getCause());
        assertEquals(cause.toString(), copy.getCause().toString());
        assertEquals(1, copy.getSuppressed().length);
        assertEquals("java.lang.IllegalArgumentException: cleanup", copy.getSuppressed()[0].toString());
        assertSame(copy, ContainedThrowable.of(copy), "a copy is not copied again");
    }

    @Test
    void methodsThatThrowOrReturnGarbageLeaveAPrintableCopy() {
        RuntimeException hostile = new RuntimeException() {
            private static final long serialVersionUID = 1L;

            @Override
            public String getLocalizedMessage() {
                throw new IllegalStateException("no message");
            }

            @Override
            public StackTraceElement[] getStackTrace() {
                return new StackTraceElement[] {null};
            }

            @Override
            public synchronized Throwable getCause() {
                throw new IllegalStateException("no cause");
            }
        };

        Throwable copy = ContainedThrowable.of(hostile);

        assertEquals(
                hostile.getClass().getName() + ": (its message could not be read: java.lang.IllegalStateException)",
                copy.toString());
        assertEquals(0, copy.getStackTrace().length);
        assertNull(copy.getCause());
        copy.printStackTrace(new PrintWriter(new StringWriter())); // what a logger does: runs no plugin code
    }

    /** Each call of {@code getCause} makes a new one: the chain never ends. */
    private static final class EndlessCauses extends RuntimeException {
        private static final long serialVersionUID = 1L;

        EndlessCauses(String message) {
            super(message);
        }

        @Override
        public synchronized Throwable getCause() {
            return new EndlessCauses("again");
        }
    }

    @Test
    void anEndlessChainOfCausesIsCutAndAMessageIsCapped() {
        Throwable copy = ContainedThrowable.of(new EndlessCauses("x".repeat(ContainedThrowable.MAX_MESSAGE + 10)));

        assertEquals("x".repeat(ContainedThrowable.MAX_MESSAGE) + "... (10 more characters)", copy.getMessage());
        int depth = 0;
        for (Throwable t = copy.getCause(); t != null; t = t.getCause()) {
            depth++;
        }
        assertEquals(ContainedThrowable.MAX_DEPTH, depth);
    }

    @Test
    void aCycleOfCausesIsFollowedOnce() {
        RuntimeException a = new RuntimeException("a");
        RuntimeException b = new RuntimeException("b", a);
        a.initCause(b);

        Throwable copy = ContainedThrowable.of(a);

        assertEquals("java.lang.RuntimeException: b", copy.getCause().toString());
        assertNull(copy.getCause().getCause(), "a is not followed a second time");
    }
}
