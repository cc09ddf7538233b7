package io.kvconnect.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import io.kvconnect.api.Stability;
import java.util.Set;

/** Dependency rules over every production class of the project. */
@AnalyzeClasses(packages = "io.kvconnect", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {
    /** Packages of the plugin modules; each depends on the API and its own packages only. */
    static final String[] PLUGIN_PACKAGES = {
        "io.kvconnect.offload..",
        "io.kvconnect.multi..",
        "io.kvconnect.nixl..",
        "io.kvconnect.disk..",
        "io.kvconnect.redis.."
    };

    private static final Set<String> JAVA_BASE_PACKAGES =
            ModuleLayer.boot().findModule("java.base").orElseThrow().getPackages();

    /** JSpecify's nullness annotations (the package holds nothing else): compile time only. */
    private static final String JSPECIFY_ANNOTATIONS = "org.jspecify.annotations";

    private static final DescribedPredicate<JavaClass> API_OR_JAVA_BASE =
            DescribedPredicate.describe("in the API, in module java.base or JSpecify's annotations", c -> {
                JavaClass base = c.getBaseComponentType();
                return base.isPrimitive()
                        || base.getPackageName().startsWith("io.kvconnect.api")
                        || JAVA_BASE_PACKAGES.contains(base.getPackageName())
                        || base.getPackageName().equals(JSPECIFY_ANNOTATIONS);
            });

    // The nullness annotations (@NullMarked, @Nullable) are the one exception: the API's
    // module-info requires them static, so no code needs them at run time (ModuleDescriptorTest).
    @ArchTest
    static final ArchRule apiDependsOnJavaBaseOnly = classes()
            .that()
            .resideInAPackage("io.kvconnect.api..")
            .should()
            .onlyDependOnClassesThat(API_OR_JAVA_BASE)
            .because("the connector API depends on java.base only at run time");

    @ArchTest
    static final ArchRule everyPublicApiTypeCarriesTheStabilityAnnotation = classes()
            .that()
            .resideInAPackage("io.kvconnect.api..")
            .and()
            .arePublic()
            .should()
            .beAnnotatedWith(Stability.class)
            .because("connector authors must see how far they can rely on each API type");

    @ArchTest
    static final ArchRule everyStabilityAnnotationNamesTheVersionThatIntroducedIt = classes()
            .that()
            .resideInAPackage("io.kvconnect.api..")
            .and()
            .arePublic()
            .should(nameAVersionInStability())
            .because("the API is frozen release by release: each type and each later method says since when");

    /**
     * The type's {@code @Stability}, and that of each of its methods that carries one, has a
     * {@code since} that is not blank.
     */
    private static ArchCondition<JavaClass> nameAVersionInStability() {
        return new ArchCondition<>("name a version in @Stability(since = ...)") {
            @Override
            public void check(JavaClass type, ConditionEvents events) {
                type.tryGetAnnotationOfType(Stability.class).ifPresent(s -> checkSince(type.getName(), s, events));
                type.getMethods().forEach(m -> m.tryGetAnnotationOfType(Stability.class)
                        .ifPresent(s -> checkSince(m.getFullName(), s, events)));
            }

            private void checkSince(String where, Stability stability, ConditionEvents events) {
                boolean named = !stability.since().isBlank();
                events.add(new SimpleConditionEvent(
                        where,
                        named,
                        where + (named ? " names since " + stability.since() : " has @Stability with a blank since")));
            }
        };
    }

    // connector-offload has classes, so its rule must not pass vacuously: no allowEmptyShould.
    @ArchTest
    static final ArchRule offloadPluginDependsOnTheApiOnly = classes()
            .that()
            .resideInAPackage("io.kvconnect.offload..")
            .should()
            .onlyDependOnClassesThat()
            .resideInAnyPackage("io.kvconnect.api..", "io.kvconnect.offload..", "java..")
            .because("the offload plugin talks to the engine only through the connector API");

    @ArchTest
    static final ArchRule offloadPluginExposesOnlyItsProvider = classes()
            .that()
            .resideInAPackage("io.kvconnect.offload..")
            .and()
            .arePublic()
            .should()
            .haveSimpleName("OffloadConnectorProvider")
            .because("only the provider is the plugin's entry point; everything else is package-private");

    // connector-disk has classes, so its rules must not pass vacuously either.
    @ArchTest
    static final ArchRule diskPluginDependsOnTheApiOnly = classes()
            .that()
            .resideInAPackage("io.kvconnect.disk..")
            .should()
            .onlyDependOnClassesThat()
            .resideInAnyPackage("io.kvconnect.api..", "io.kvconnect.disk..", "java..", "com.sun.nio.file")
            .because("the disk plugin talks to the engine only through the connector API (and asks for"
                    + " direct I/O through the JDK's com.sun.nio.file.ExtendedOpenOption, module jdk.unsupported)");

    @ArchTest
    static final ArchRule diskPluginExposesOnlyItsProvider = classes()
            .that()
            .resideInAPackage("io.kvconnect.disk..")
            .and()
            .arePublic()
            .should()
            .haveSimpleName("DiskConnectorProvider")
            .because("only the provider is the plugin's entry point; everything else is package-private");

    // connector-multi has classes, so its rules must not pass vacuously either.
    @ArchTest
    static final ArchRule multiPluginDependsOnTheApiOnly = classes()
            .that()
            .resideInAPackage("io.kvconnect.multi..")
            .should()
            .onlyDependOnClassesThat()
            .resideInAnyPackage("io.kvconnect.api..", "io.kvconnect.multi..", "java..")
            .because("the multi plugin finds its children through the engine's catalog, never by linking them");

    @ArchTest
    static final ArchRule multiPluginExposesOnlyItsProvider = classes()
            .that()
            .resideInAPackage("io.kvconnect.multi..")
            .and()
            .arePublic()
            .should()
            .haveSimpleName("MultiConnectorProvider")
            .because("only the provider is the plugin's entry point; everything else is package-private");

    @ArchTest
    static final ArchRule multiPluginUsesNoReflection = noClasses()
            .that()
            .resideInAPackage("io.kvconnect.multi..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("java.lang.reflect..")
            .because("a composite forwards each hook explicitly (a test checks every API method is handled)");

    // connector-nixl-like has classes: its rules must not pass vacuously either. It uses
    // javax.crypto (java.base) for the handshake's HMAC, SLF4J for its logs, and JUCX (UCX's Java
    // binding, org.openucx.jucx) for its UCX backend; no other library.
    @ArchTest
    static final ArchRule nixlPluginDependsOnTheApiOnly = classes()
            .that()
            .resideInAPackage("io.kvconnect.nixl..")
            .should()
            .onlyDependOnClassesThat()
            .resideInAnyPackage(
                    "io.kvconnect.api..",
                    "io.kvconnect.nixl..",
                    "java..",
                    "javax.crypto..",
                    "org.slf4j..",
                    "org.openucx.jucx..")
            .because("the nixl-like plugin talks to the engine only through the connector API");

    // The nixl-like plugin has packages of its own (protocol, transport, faults), so the types they
    // share are public; its module exports no package (ModuleDescriptorTest), so public there means
    // visible inside the module only. The connector package itself keeps everything but its provider
    // package-private.
    @ArchTest
    static final ArchRule nixlPluginExposesOnlyItsProvider = classes()
            .that()
            .resideInAPackage("io.kvconnect.nixl")
            .and()
            .arePublic()
            .should()
            .haveSimpleName("NixlConnectorProvider")
            .because("only the provider is the plugin's entry point; everything else is package-private");

    // Inside the nixl-like plugin, dependencies go one way: the connector package (io.kvconnect.nixl)
    // on transport and protocol, transport on protocol, and faults (the fault-injecting transport of
    // the soak) on transport and protocol. Only the connector package uses faults, where it wires
    // them in: its configuration parses the faults object and its backend choice wraps the backend.
    // Each package's package-info says what lives there.
    static final String NIXL_CONNECTOR = "io.kvconnect.nixl";
    static final String NIXL_PROTOCOL = "io.kvconnect.nixl.protocol..";
    static final String NIXL_TRANSPORT = "io.kvconnect.nixl.transport..";
    static final String NIXL_FAULTS = "io.kvconnect.nixl.faults..";

    @ArchTest
    static final ArchRule nixlClassesLiveInTheFourPackages = classes()
            .that()
            .resideInAPackage("io.kvconnect.nixl..")
            .should()
            .resideInAnyPackage(NIXL_CONNECTOR, NIXL_PROTOCOL, NIXL_TRANSPORT, NIXL_FAULTS)
            .because("the nixl-like rules below name these packages; a new one needs a place among them");

    @ArchTest
    static final ArchRule nixlProtocolDependsOnNoOtherNixlPackage = noClasses()
            .that()
            .resideInAPackage(NIXL_PROTOCOL)
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(NIXL_CONNECTOR, NIXL_TRANSPORT, NIXL_FAULTS)
            .because("the wire protocol is independent of the backends and of the connector that uses them");

    @ArchTest
    static final ArchRule nixlTransportDependsOnTheProtocolOnly = noClasses()
            .that()
            .resideInAPackage(NIXL_TRANSPORT)
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(NIXL_CONNECTOR, NIXL_FAULTS)
            .because("the backends know the protocol, not the connector that picks them or the wrapper "
                    + "that injects faults into them");

    @ArchTest
    static final ArchRule nixlFaultsDependOnNoConnectorClass = noClasses()
            .that()
            .resideInAPackage(NIXL_FAULTS)
            .should()
            .dependOnClassesThat()
            .resideInAPackage(NIXL_CONNECTOR)
            .because("fault injection wraps a transport; the connector wires it in, not the other way round");

    @ArchTest
    static final ArchRule onlyTheNixlConnectorUsesFaults = noClasses()
            .that()
            .resideOutsideOfPackages(NIXL_CONNECTOR, NIXL_FAULTS)
            .should()
            .dependOnClassesThat()
            .resideInAPackage(NIXL_FAULTS)
            .because("fault injection is a test and soak aid, wired in by the connector's configuration only");

    // connector-redis has classes: its rule must not pass vacuously either. It uses Lettuce
    // (io.lettuce), the Redis client, and no other library: not Netty or Reactor directly.
    @ArchTest
    static final ArchRule redisPluginDependsOnTheApiAndLettuceOnly = classes()
            .that()
            .resideInAPackage("io.kvconnect.redis..")
            .should()
            .onlyDependOnClassesThat()
            .resideInAnyPackage(
                    "io.kvconnect.api..", "io.kvconnect.redis..", "java..", "javax.crypto..", "io.lettuce..")
            .because("the redis plugin talks to the engine only through the connector API, to Redis through Lettuce,"
                    + " and signs values with java.base's HMAC (javax.crypto)");

    // The other plugin modules hold no classes until their issues land; the rule then applies unchanged.
    @ArchTest
    static final ArchRule pluginsDependOnTheApiOnly = classes()
            .that()
            .resideInAnyPackage(PLUGIN_PACKAGES)
            .should()
            .onlyDependOnClassesThat()
            .resideInAnyPackage(
                    "io.kvconnect.api..",
                    "io.kvconnect.offload..",
                    "io.kvconnect.multi..",
                    "io.kvconnect.nixl..",
                    "io.kvconnect.disk..",
                    "io.kvconnect.redis..",
                    "java..",
                    "javax..",
                    "org.slf4j..",
                    "org.openucx..",
                    "io.lettuce..",
                    // the disk tier's direct I/O open option (module jdk.unsupported)
                    "com.sun.nio.file")
            .allowEmptyShould(true)
            .because("a plugin talks to the engine only through the connector API");

    // JCuda (the CUDA binding of device KV memory) is the engine's, behind its copy service: the API
    // has no CUDA type, connectors never link a GPU library, and inside the engine one class makes
    // the calls, so everything above them is tested with a host fake.
    @ArchTest
    static final ArchRule onlyTheEnginesCudaCallsUseJCuda = noClasses()
            .that()
            .doNotHaveFullyQualifiedName("io.kvconnect.core.memory.JCudaCalls")
            .and()
            .haveNameNotMatching("io\\.kvconnect\\.core\\.memory\\.JCudaCalls\\$.*") // its handles
            .should()
            .dependOnClassesThat()
            .resideInAPackage("jcuda..")
            .because("connectors and the API must not depend on a GPU library; the engine reaches CUDA "
                    + "through CudaCalls only");

    // The exceptions: io.kvconnect.testkit and io.kvconnect.tools (the engine's friend modules, the
    // connector test kit and the launcher's command line), to which the engine exports the packages
    // they need by name, and io.kvconnect.bench (module
    // benchmarks): JMH benchmarks that time the engine's scheduler and block pool themselves. It
    // has no module descriptor and runs on the class path, ships in no distribution, and nothing
    // depends on it (next rule).
    @ArchTest
    static final ArchRule nothingOutsideCoreDependsOnCore = noClasses()
            .that()
            .resideOutsideOfPackages(
                    "io.kvconnect.core..", "io.kvconnect.testkit..", "io.kvconnect.tools..", "io.kvconnect.bench..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("io.kvconnect.core..")
            .because("the engine's internals are not an API (the benchmarks measure them directly)");

    // The byte-code half of "the host names no connector" (the source half, with its exact
    // definition, is HostNamesNoConnectorTest): the engine links no class of a bundled plugin.
    @ArchTest
    static final ArchRule theEngineLinksNoPlugin = noClasses()
            .that()
            .resideInAPackage("io.kvconnect.core..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(PLUGIN_PACKAGES)
            .because("the engine finds connectors by discovery and names none of them");

    // The test kit, the doubles and the engine link no plugin either: plugins are found through the
    // catalog; and only the launcher's command line knows the disaggregation connector.
    @ArchTest
    static final ArchRule theKitAndTheToolsLinkNoPlugin = noClasses()
            .that()
            .resideInAnyPackage("io.kvconnect.testkit..", "io.kvconnect.tools..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(PLUGIN_PACKAGES)
            .because("connectors are found through discovery or the kit's catalog, never linked");

    @ArchTest
    static final ArchRule theDoublesDependOnTheApiAndJavaBaseOnly = classes()
            .that()
            .resideInAPackage("io.kvconnect.testkit.doubles..")
            .should()
            .onlyDependOnClassesThat(
                    API_OR_JAVA_BASE.or(JavaClass.Predicates.resideInAPackage("io.kvconnect.testkit.doubles..")))
            .because("the engine's own tests use the doubles (test scope): they must not need the engine");

    @ArchTest
    static final ArchRule nothingButTheLauncherDependsOnTheTools = noClasses()
            .that()
            .resideOutsideOfPackage("io.kvconnect.tools..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("io.kvconnect.tools..")
            .because("kvconnect.tools is the application on top: it exports nothing");

    @ArchTest
    static final ArchRule theEngineDependsOnNeitherTheKitNorTheTools = noClasses()
            .that()
            .resideInAPackage("io.kvconnect.core..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("io.kvconnect.testkit..", "io.kvconnect.tools..")
            .because("the friend modules build on the engine; the engine must build without them");

    @ArchTest
    static final ArchRule nothingDependsOnTheBenchmarks = noClasses()
            .that()
            .resideOutsideOfPackage("io.kvconnect.bench..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("io.kvconnect.bench..")
            .because("the benchmarks are a leaf: their access to the engine must not leak into other code");

    @ArchTest
    static final ArchRule pluginsDoNotDependOnEachOther = slices().matching(
                    "io.kvconnect.(offload|multi|nixl|disk|redis)..")
            .should()
            .notDependOnEachOther()
            .allowEmptyShould(true)
            .because("plugins are composed by configuration, not by linking");

    // The engine JVM's options live in one resource that EngineJvmOptions reads (and ./kvconnect
    // passes to java); an engine process started from Java code must take them from there.
    @ArchTest
    static final ArchRule engineProcessesStartWithTheEngineJvmOptions = classes()
            .that()
            .resideInAnyPackage("io.kvconnect.core..", "io.kvconnect.tools..")
            .and(DescribedPredicate.describe(
                    "start a process", (JavaClass c) -> c.getConstructorCallsFromSelf().stream()
                            .anyMatch(call -> call.getTargetOwner().isEquivalentTo(ProcessBuilder.class))))
            .should()
            .dependOnClassesThat()
            .haveFullyQualifiedName("io.kvconnect.tools.cli.EngineJvmOptions")
            .because("every engine JVM runs with Unsafe memory access and native access denied "
                    + "(engine-jvm.args), the child engines of disagg included");

    // @Stability lives in the API's root package and marks every API type: metadata for readers and
    // tools, not a code dependency, so it makes no cycle between the root and the other packages.
    @ArchTest
    static final ArchRule noPackageCycles = slices().matching("io.kvconnect.(**)")
            .should()
            .beFreeOfCycles()
            .ignoreDependency(DescribedPredicate.alwaysTrue(), JavaClass.Predicates.belongToAnyOf(Stability.class));
}
