package io.kvconnect.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

/**
 * No plugin's build depends on the engine: a plugin is tested through the test kit, which brings
 * the engine in test scope, so that a plugin can neither compile nor test against engine internals.
 *
 * <p>A <i>plugin module</i> is every Maven project of the repository (a {@code pom.xml} in the
 * root's direct subfolders or in {@code examples/}'s) whose main resources declare a connector
 * provider ({@code src/main/resources/META-INF/services/io.kvconnect.api.ConnectorProvider}). The
 * rule: no {@code <dependency>} element anywhere in its pom (dependencies, dependency management,
 * profiles, plugin dependencies) has artifact id {@code connector-core}, whatever its scope,
 * type or classifier; and the test kit, where it is a dependency, is one in scope {@code test}.
 */
class PluginPomsTest {
    // The tests run in architecture-tests/, one level below the repository root.
    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    private static final String PROVIDER_SERVICE =
            "src/main/resources/META-INF/services/io.kvconnect.api.ConnectorProvider";

    @Test
    void noPluginPomDependsOnTheEngineInAnyScope() throws Exception {
        var plugins = pluginPoms();
        assertTrue(plugins.size() >= 4, "expected the three bundled plugins and the example, found " + plugins);
        List<String> found = new ArrayList<>();
        for (Path pom : plugins) {
            for (Element d : dependencies(pom)) {
                if (text(d, "artifactId").equals("connector-core")) {
                    found.add(ROOT.relativize(pom) + ": connector-core (scope " + scope(d) + ")");
                }
            }
        }
        assertEquals(List.of(), found, "a plugin depends on the engine; depend on connector-testkit in test scope");
    }

    @Test
    void pluginsTakeTheTestKitInTestScopeOnly() throws Exception {
        var scopes = new TreeMap<String, String>();
        for (Path pom : pluginPoms()) {
            for (Element d : dependencies(pom)) {
                if (text(d, "artifactId").startsWith("connector-testkit")) {
                    scopes.put(ROOT.relativize(pom) + " " + text(d, "artifactId"), scope(d));
                }
            }
        }
        assertTrue(scopes.size() >= 4, "every plugin tests with the kit: " + scopes);
        scopes.forEach((dependency, scope) -> assertEquals("test", scope, dependency));
    }

    /** The poms of the plugin modules (see the class comment). */
    static List<Path> pluginPoms() throws IOException {
        List<Path> poms = new ArrayList<>();
        for (Path parent : List.of(ROOT, ROOT.resolve("examples"))) {
            try (Stream<Path> dirs = Files.list(parent)) {
                dirs.filter(d -> Files.isRegularFile(d.resolve("pom.xml")))
                        .filter(d -> Files.isRegularFile(d.resolve(PROVIDER_SERVICE)))
                        .map(d -> d.resolve("pom.xml"))
                        .sorted()
                        .forEach(poms::add);
            }
        }
        return poms;
    }

    /** Every {@code <dependency>} element of a pom, wherever it is. */
    private static List<Element> dependencies(Path pom) throws IOException, SAXException, ParserConfigurationException {
        var factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(false);
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        NodeList nodes = factory.newDocumentBuilder().parse(pom.toFile()).getElementsByTagName("dependency");
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) {
            out.add((Element) nodes.item(i));
        }
        return out;
    }

    private static String scope(Element dependency) {
        String scope = text(dependency, "scope");
        return scope.isEmpty() ? "compile" : scope;
    }

    private static String text(Element parent, String child) {
        NodeList n = parent.getElementsByTagName(child);
        return n.getLength() == 0 ? "" : n.item(0).getTextContent().strip();
    }
}
