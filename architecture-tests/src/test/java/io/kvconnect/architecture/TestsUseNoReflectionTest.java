package io.kvconnect.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaMethodCall;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchRule;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.AccessibleObject;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * No test reaches into engine state by reflection: a test that needs to see state asks the engine
 * (its metrics, invariants, the kit's results), so a refactoring of the engine's fields cannot
 * silently turn a test into one that checks nothing.
 *
 * <p>The rule, exactly: no class compiled from the test sources of a reactor module ({@link
 * #MODULES_WITH_TESTS}, read from their {@code target/test-classes}) calls a method that reads or
 * writes a field reflectively or lifts access checks: {@code Class.getField(s)}, {@code
 * Class.getDeclaredField(s)}, any method of {@code java.lang.reflect.Field}, {@code
 * setAccessible}/{@code trySetAccessible} of {@code AccessibleObject} and its subclasses, {@code
 * MethodHandles.privateLookupIn}, and the {@code MethodHandles.Lookup} methods that reach fields
 * ({@code findGetter}, {@code findSetter}, {@code findStaticGetter}, {@code findStaticSetter},
 * {@code findVarHandle}, {@code findStaticVarHandle}, {@code unreflectGetter}, {@code
 * unreflectSetter}, {@code unreflectVarHandle}). Looking up public methods of API types (as the
 * multi connector's test of forwarded hooks does) is not refused; nor is code that tests compile
 * at run time into probe plugins (it is text in the test, not a call).
 *
 * <p>The test classes must have been compiled (the reactor builds them before this module); a
 * missing folder fails the rule rather than letting it pass on nothing.
 */
class TestsUseNoReflectionTest {
    // The tests run in architecture-tests/, one level below the repository root.
    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    /** The reactor modules that have tests. */
    static final List<String> MODULES_WITH_TESTS = List.of(
            "connector-api",
            "connector-testkit-doubles",
            "connector-core",
            "connector-testkit",
            "connector-offload",
            "connector-disk",
            "connector-multi",
            "connector-nixl-like",
            "kvconnect-tools");

    private static final Set<String> LOOKUP_FIELD_METHODS = Set.of(
            "findGetter",
            "findSetter",
            "findStaticGetter",
            "findStaticSetter",
            "findVarHandle",
            "findStaticVarHandle",
            "unreflectGetter",
            "unreflectSetter",
            "unreflectVarHandle");

    private static final DescribedPredicate<JavaMethodCall> REFLECTION_ON_STATE =
            DescribedPredicate.describe("reflection that reads or writes fields or lifts access checks", call -> {
                var owner = call.getTargetOwner();
                String name = call.getName();
                return owner.isEquivalentTo(Class.class) && name.matches("get(Declared)?Fields?")
                        || owner.isAssignableTo(Field.class)
                        || owner.isAssignableTo(AccessibleObject.class)
                                && (name.equals("setAccessible") || name.equals("trySetAccessible"))
                        || owner.isEquivalentTo(MethodHandles.class) && name.equals("privateLookupIn")
                        || owner.isEquivalentTo(MethodHandles.Lookup.class) && LOOKUP_FIELD_METHODS.contains(name);
            });

    @Test
    void noTestReadsOrWritesStateByReflection() {
        var folders = MODULES_WITH_TESTS.stream()
                .map(m -> ROOT.resolve(m).resolve("target/test-classes"))
                .toList();
        for (Path folder : folders) {
            assertTrue(Files.isDirectory(folder), folder + " is missing: build the reactor's tests first");
        }
        JavaClasses tests = new ClassFileImporter().importPaths(folders);
        assertTrue(tests.size() > 200, "only " + tests.size() + " test classes found under " + folders);

        ArchRule rule = noClasses()
                .should()
                .callMethodWhere(REFLECTION_ON_STATE)
                .because("a test sees engine state through the engine's own accessors, never by reflection");
        rule.check(tests);
    }
}
