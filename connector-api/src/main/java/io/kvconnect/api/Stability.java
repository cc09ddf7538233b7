package io.kvconnect.api;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The one stability marker of the connector API. Every public type of {@code kvconnect.api}
 * carries it, with the API version that introduced the type (an architecture test checks both); a
 * method added to a type later carries it too, with its own {@link #since()}.
 *
 * <p>The SPI grows by adding {@code default} methods only, so code written against an
 * {@link Level#EVOLVING} type keeps compiling and linking; what may change is behaviour that
 * the javadoc does not promise.
 *
 * <p>It lives in the root package although every API package uses it: it is metadata for readers
 * and tools, not a code dependency, so the package rule "root depends on the others, never the
 * other way" leaves it out.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@Stability(value = Stability.Level.STABLE, since = "0.1")
public @interface Stability {

    /**
     * The stability level of the annotated element.
     *
     * @return how far a connector author may rely on it
     */
    Level value();

    /**
     * The API version that introduced the annotated element, such as {@code "0.1"}: the
     * {@code major.minor} of the {@code connector-api} release. Never empty.
     *
     * @return the version, {@code major.minor}
     */
    String since();

    /** How far a connector author may rely on the annotated element. */
    @Stability(value = Stability.Level.STABLE, since = "0.1")
    enum Level {
        /** Will not change incompatibly before the next major version. */
        STABLE,
        /** May gain default methods and clarified contracts; existing methods keep their meaning. */
        EVOLVING,
        /** May change or disappear in any release; use it to try ideas out. */
        EXPERIMENTAL
    }
}
