package io.kvconnect.api.common;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * How a method's nullable result follows from its arguments, for NullAway, which reads any
 * annotation of this simple name in the JetBrains {@code @Contract} syntax: {@code "_, !null ->
 * !null"} says the result is not null when the second argument is not. So a caller of {@link
 * ConnectorConfig#getString} that passes a default gets a non-null string, and only one that passes
 * {@code null} must handle {@code null}.
 *
 * <p>Package-private and kept in the class files only: no API type, no run-time dependency, and
 * invisible to a connector except to its nullness checker.
 */
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.METHOD)
@interface Contract {
    /** {@return the clauses, {@code ;}-separated} */
    String value();
}
