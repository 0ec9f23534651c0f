package org.adjoint.bench.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.zip.GZIPInputStream;

/**
 * A character-level corpus for {@code adjoint lm}: the text as token ids over its sorted
 * distinct characters, split into the first 90 % for training and the last 10 % for
 * validation (the customary split of tiny Shakespeare), and batches of random context
 * windows drawn from a seeded generator.
 *
 * @param name       how the header names it
 * @param vocabulary the distinct characters in increasing order; a character's id is its index
 * @param train      the training ids
 * @param validation the held-out ids
 */
record TextData(String name, char[] vocabulary, int[] train, int[] validation) {

    private static final String SHAKESPEARE_RESOURCE = "/org/adjoint/bench/data/tinyshakespeare.txt.gz";

    /**
     * The inputs and targets of one batch: {@code targets[b][t]} is the character after
     * {@code inputs[b][t]}.
     *
     * @param inputs  {@code batch × context} ids, row-major
     * @param targets the same shape, shifted by one character
     * @param batch   windows
     * @param context characters per window
     */
    record Windows(int[] inputs, int[] targets, int batch, int context) {
    }

    /**
     * The tiny Shakespeare corpus bundled in the jar (1,115,394 characters, 65 distinct).
     *
     * @return the corpus, split 90 / 10
     * @throws IllegalStateException when the resource is missing from the jar
     */
    static TextData shakespeare() {
        try (InputStream raw = TextData.class.getResourceAsStream(SHAKESPEARE_RESOURCE)) {
            if (raw == null) {
                throw new IllegalStateException("the Shakespeare corpus is missing from the jar (" + SHAKESPEARE_RESOURCE
                        + ")");
            }
            try (InputStream in = new GZIPInputStream(raw)) {
                return of("tiny Shakespeare", new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the bundled Shakespeare corpus: " + e, e);
        }
    }

    /**
     * A corpus from a text: its vocabulary, and its first 90 % (rounded down) for training.
     *
     * @param name how the header names it
     * @param text at least two characters in each part
     * @return the corpus
     * @throws IllegalArgumentException for a text too short to split
     */
    static TextData of(String name, String text) {
        TreeSet<Character> distinct = new TreeSet<>();
        for (int i = 0; i < text.length(); i++) {
            distinct.add(text.charAt(i));
        }
        char[] vocabulary = new char[distinct.size()];
        int next = 0;
        for (char c : distinct) {
            vocabulary[next++] = c;
        }
        int[] ids = new int[text.length()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = Arrays.binarySearch(vocabulary, text.charAt(i));
        }
        int trainLength = (int) (ids.length * 0.9);
        if (trainLength < 2 || ids.length - trainLength < 2) {
            throw new IllegalArgumentException("a corpus needs at least 2 characters in each of its 90/10 parts, got "
                    + ids.length + " characters");
        }
        return new TextData(name, vocabulary, Arrays.copyOf(ids, trainLength),
                Arrays.copyOfRange(ids, trainLength, ids.length));
    }

    /**
     * Number of distinct characters.
     *
     * @return the vocabulary size
     */
    int vocabularySize() {
        return vocabulary.length;
    }

    /**
     * Random windows of one part: each starts at a position drawn uniformly from those that
     * leave room for its target.
     *
     * @param part    {@link #train()} or {@link #validation()}
     * @param batch   windows
     * @param context characters per window, less than the part's length
     * @param random  the generator, advanced by {@code batch} draws
     * @return the batch
     * @throws IllegalArgumentException when the part is not longer than the context
     */
    static Windows windows(int[] part, int batch, int context, SplittableRandom random) {
        if (part.length <= context) {
            throw new IllegalArgumentException("a context of " + context + " characters needs a text longer than that, "
                    + "got " + part.length);
        }
        int[] inputs = new int[batch * context];
        int[] targets = new int[batch * context];
        for (int b = 0; b < batch; b++) {
            int start = random.nextInt(part.length - context);
            System.arraycopy(part, start, inputs, b * context, context);
            System.arraycopy(part, start + 1, targets, b * context, context);
        }
        return new Windows(inputs, targets, batch, context);
    }

    /**
     * Ids of a text over this vocabulary.
     *
     * @param text characters of the vocabulary
     * @return their ids
     * @throws IllegalArgumentException naming the first character the corpus does not have
     */
    int[] encode(String text) {
        int[] ids = new int[text.length()];
        for (int i = 0; i < ids.length; i++) {
            int id = Arrays.binarySearch(vocabulary, text.charAt(i));
            if (id < 0) {
                throw new IllegalArgumentException("the character '" + text.charAt(i) + "' (U+"
                        + String.format("%04X", (int) text.charAt(i)) + ") is not in the " + name + " vocabulary");
            }
            ids[i] = id;
        }
        return ids;
    }

    /**
     * The text of ids.
     *
     * @param ids ids in {@code [0, vocabularySize())}
     * @return the characters
     */
    String decode(int[] ids) {
        StringBuilder text = new StringBuilder(ids.length);
        for (int id : ids) {
            text.append(vocabulary[id]);
        }
        return text.toString();
    }
}
