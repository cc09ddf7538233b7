package io.kvconnect.api.common;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The one stability marker of the connector API. Every public type of {@code kvconnect.api}
 * carries it (an architecture test enforces this).
 *
 * <p>The SPI grows by adding {@code default} methods only, so code written against an
 * {@link Level#EVOLVING} type keeps compiling and linking; what may change is behaviour that
 * the javadoc does not promise.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@Stability(Stability.Level.STABLE)
public @interface Stability {

    /** The stability level of the annotated element. */
    Level value();

    /** How far a connector author may rely on the annotated element. */
    @Stability(Stability.Level.STABLE)
    enum Level {
        /** Will not change incompatibly before the next major version. */
        STABLE,
        /** May gain default methods and clarified contracts; existing methods keep their meaning. */
        EVOLVING,
        /** May change or disappear in any release; use it to try ideas out. */
        EXPERIMENTAL
    }
}
