package org.adjoint.bench.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The repository's Markdown holds together: every relative link in README.md and the guides
 * (every {@code .md} file outside build folders) names a file of the repository that exists
 * and, where it has a {@code #fragment} into a Markdown file, a heading of that file, with the
 * fragment GitHub gives the heading. Every guide in {@code docs/} is linked from the README,
 * the entry point. Links with a scheme ({@code https:}, {@code mailto:}) are not followed, nor
 * is anything inside fenced blocks or code spans.
 */
class DocumentationLinksTest {

    /** An inline link's target: {@code [text](target)}, up to the first space or parenthesis. */
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
    private static final Pattern SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:");
    private static final Pattern HEADING = Pattern.compile("^#{1,6}\\s+(.*?)\\s*#*\\s*$");
    private static final Pattern CODE_SPAN = Pattern.compile("`+[^`]*`+");

    @Test
    void everyRelativeLinkReachesAFileOfTheRepositoryAndAHeadingOfIt() throws IOException {
        Path root = ReadmeTranscriptTest.readme().getParent();
        List<Path> documents = markdownFiles(root);
        assertTrue(documents.size() > 5, "found only " + documents + " under " + root);
        Map<Path, Set<String>> fragments = new HashMap<>();
        List<String> broken = new ArrayList<>();
        int followed = 0;
        for (Path document : documents) {
            List<String> lines = Files.readAllLines(document);
            boolean[] fenced = fenced(lines);
            for (int i = 0; i < lines.size(); i++) {
                for (String target : fenced[i] ? List.<String>of() : links(lines.get(i))) {
                    followed++;
                    String where = root.relativize(document) + ":" + (i + 1) + ": (" + target + ") ";
                    int hash = target.indexOf('#');
                    String file = hash < 0 ? target : target.substring(0, hash);
                    Path resolved = file.isEmpty() ? document : document.getParent().resolve(file).normalize();
                    if (!resolved.startsWith(root)) {
                        broken.add(where + "leaves the repository, so a clone does not have it");
                    } else if (!Files.exists(resolved)) {
                        broken.add(where + "names " + root.relativize(resolved) + ", which does not exist");
                    } else if (hash >= 0 && resolved.toString().endsWith(".md")) {
                        String fragment = target.substring(hash + 1);
                        if (!fragments.computeIfAbsent(resolved, DocumentationLinksTest::headingFragments)
                                .contains(fragment)) {
                            broken.add(where + "names #" + fragment + ", which no heading of "
                                    + root.relativize(resolved) + " has");
                        }
                    }
                }
            }
        }
        assertTrue(followed > 50, "followed only " + followed + " links: is the link pattern still right?");
        assertTrue(broken.isEmpty(), () -> broken.size() + " broken links:\n" + String.join("\n", broken));
    }

    @Test
    void everyGuideIsLinkedFromTheReadme() throws IOException {
        Path readme = ReadmeTranscriptTest.readme();
        Set<Path> linked = new HashSet<>();
        List<String> lines = Files.readAllLines(readme);
        boolean[] fenced = fenced(lines);
        for (int i = 0; i < lines.size(); i++) {
            for (String target : fenced[i] ? List.<String>of() : links(lines.get(i))) {
                int hash = target.indexOf('#');
                String file = hash < 0 ? target : target.substring(0, hash);
                if (!file.isEmpty()) {
                    linked.add(readme.getParent().resolve(file).normalize());
                }
            }
        }
        List<String> unlinked = new ArrayList<>();
        try (Stream<Path> guides = Files.list(readme.getParent().resolve("docs"))) {
            guides.filter(p -> p.toString().endsWith(".md")).filter(p -> !linked.contains(p))
                    .forEach(p -> unlinked.add(p.getFileName().toString()));
        }
        assertEquals(List.of(), unlinked, "guides in docs/ that README.md does not link to");
    }

    @Test
    void headingsGetGitHubsFragments() {
        assertEquals("the-gpt-iteration", slug("The GPT iteration"));
        assertEquals("javas-min-and-max-in-the-vector-kernels-2026-12-05",
                slug("Java's `min` and `max` in the vector kernels (2026-12-05)"));
        assertEquals("results-2026-12-04-19542050-utc-and-what--05-pytorch-113-would-take",
                slug("Results (2026-12-04, 19:54–20:50 UTC), and what ≤ 0.5× PyTorch 1.13 would take"));
        assertEquals("the-cuda-backend", slug("The [CUDA](backends.md) backend"));
        assertEquals("snake_case-stays", slug("snake_case stays"));
    }

    /** The relative link targets on a line outside fenced blocks, code spans left out. */
    private static List<String> links(String line) {
        List<String> targets = new ArrayList<>();
        Matcher m = LINK.matcher(CODE_SPAN.matcher(line).replaceAll(""));
        while (m.find()) {
            if (!SCHEME.matcher(m.group(1)).find()) {
                targets.add(m.group(1));
            }
        }
        return targets;
    }

    /** For each line, whether it is a fence or lies between an opening fence and its close. */
    private static boolean[] fenced(List<String> lines) {
        boolean[] fenced = new boolean[lines.size()];
        boolean inside = false;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            boolean fence = line.startsWith("```") || line.startsWith("~~~");
            fenced[i] = inside || fence;
            if (fence) {
                inside = !inside;
            }
        }
        return fenced;
    }

    /** The fragments of a Markdown file's headings: each heading's slug, then -1, -2 for repeats. */
    private static Set<String> headingFragments(Path document) {
        List<String> lines;
        try {
            lines = Files.readAllLines(document);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        boolean[] fenced = fenced(lines);
        Set<String> fragments = new HashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = HEADING.matcher(lines.get(i));
            if (!fenced[i] && m.matches()) {
                String slug = slug(m.group(1));
                int repeats = seen.merge(slug, 1, Integer::sum) - 1;
                fragments.add(repeats == 0 ? slug : slug + "-" + repeats);
            }
        }
        return fragments;
    }

    /**
     * GitHub's fragment for a heading's text: the text as rendered (links by their text, code
     * without its backticks), lower case, without anything but letters, digits, underscores,
     * hyphens and spaces, each space a hyphen.
     */
    static String slug(String heading) {
        String text = heading.replaceAll("\\[([^\\]]*)\\]\\([^)]*\\)", "$1").replace("`", "");
        return text.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}_\\- ]", "").replace(' ', '-');
    }

    /** The repository's Markdown files, build output and version control left out. */
    private static List<Path> markdownFiles(Path root) throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            return all.filter(p -> p.toString().endsWith(".md") && Files.isRegularFile(p))
                    .filter(p -> {
                        Path relative = root.relativize(p);
                        for (Path part : relative) {
                            String name = part.toString();
                            if (name.equals("target") || name.startsWith(".")) {
                                return false;
                            }
                        }
                        return true;
                    })
                    .sorted()
                    .toList();
        }
    }
}
