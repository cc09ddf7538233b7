package io.kvconnect.tools.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The HTML report: one well-formed page with the comparison and three charts inlined as PNG. */
class HtmlReportTest {
    @TempDir
    Path tmp;

    private static RunComparison twoRuns() {
        Figures with = new Figures();
        with.connectorQueries = 500;
        with.connectorHits = 300;
        with.prefill = 300;
        with.toHost = 3 << 20;
        with.fromHost = 1 << 20;
        Figures without = new Figures();
        return RunComparison.of(
                new RunColumn("connector <offload>", with.build()), new RunColumn("baseline", without.build()), true);
    }

    private static Document parse(Path file) throws Exception {
        var factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(false);
        // Never fetch anything a document names.
        factory.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        return factory.newDocumentBuilder().parse(file.toFile());
    }

    @Test
    void writesAWellFormedPageWithTheThreeChartsAsInlineSvg() throws Exception {
        Path page = tmp.resolve("r.html");

        HtmlReport.write(
                page,
                List.of("kvconnect: model tiny", "workload: 2 sessions"),
                twoRuns(),
                Optional.of("offload saved 50% & more"));

        Document doc = parse(page);
        NodeList figures = doc.getElementsByTagName("figure");
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < figures.getLength(); i++) {
            Element figure = (Element) figures.item(i);
            ids.add(figure.getAttribute("id"));
            assertEquals(
                    1, figure.getElementsByTagName("img").getLength(), "one chart in " + figure.getAttribute("id"));
            assertIsAPngOfTheChartsSize(
                    (Element) figure.getElementsByTagName("img").item(0));
        }
        assertEquals(HtmlReport.CHART_IDS, ids);
        assertEquals(3, doc.getElementsByTagName("img").getLength());
        String text = doc.getDocumentElement().getTextContent();
        assertTrue(text.contains("offload saved 50% & more"), "the saved line, escaped and read back");
        assertTrue(text.contains("connector <offload>") && text.contains("baseline"), "both runs' labels");
        assertTrue(
                text.contains("Time to first token")
                        && text.contains("Prompt tokens not computed, over time")
                        && text.contains("KV bytes moved"),
                "the charts' titles");
    }

    @Test
    void eachChartHasItsOwnIdAndThePageFetchesNothing() {
        String html = HtmlReport.page(List.of(), twoRuns(), Optional.empty());

        for (String id : HtmlReport.CHART_IDS) {
            assertTrue(html.contains("id=\"" + id + "-chart\""), id);
        }
        assertFalse(html.contains("<script"), "no script");
        assertTrue(onlyNamespaces(html), "nothing to fetch: every http:// is an XML namespace name");
    }

    @Test
    void oneRunGivesTheSameChartsWithOneSeriesEach() throws Exception {
        Path page = tmp.resolve("one.html");
        Figures f = new Figures();

        HtmlReport.write(page, List.of(), RunComparison.of(new RunColumn("no connector", f.build())), Optional.empty());

        assertEquals(3, parse(page).getElementsByTagName("img").getLength());
    }

    /** The image's source is a PNG inlined as a data URI that decodes to the chart's size. */
    private static void assertIsAPngOfTheChartsSize(Element img) throws IOException {
        String prefix = "data:image/png;base64,";
        String src = img.getAttribute("src");
        assertTrue(src.startsWith(prefix), "an inlined PNG: " + src.substring(0, Math.min(40, src.length())));
        BufferedImage image =
                ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(src.substring(prefix.length()))));
        assertEquals(img.getAttribute("width"), String.valueOf(image.getWidth()));
        assertEquals(img.getAttribute("height"), String.valueOf(image.getHeight()));
        assertFalse(img.getAttribute("alt").isBlank(), "a text alternative");
    }

    /** Whether every "http://" in the page starts an XML namespace name (xmlns="http://..."). */
    private static boolean onlyNamespaces(String html) {
        long links = Pattern.compile("http://").matcher(html).results().count();
        long namespaces = Pattern.compile("xmlns(:\\w+)?=[\"']http://")
                .matcher(html)
                .results()
                .count();
        return links == namespaces;
    }
}
