package org.adjoint.bench.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The loss and accuracy curves of a run as a PNG, drawn with JFreeChart: loss (training and
 * test) above, test accuracy below, against the epoch. Rendered headless, written to a
 * temporary file and renamed, so that a reader never sees half an image.
 */
final class LossPlot {

    private static final int WIDTH = 900;
    private static final int HEIGHT = 640;

    private LossPlot() {
    }

    /**
     * Writes the chart.
     *
     * @param file   the PNG to write (replaced if it exists)
     * @param title  the chart's title
     * @param epochs the figures per epoch, in order
     */
    static void write(Path file, String title, List<TrainCommand.EpochResult> epochs) {
        System.setProperty("java.awt.headless", "true");
        XYSeries trainLoss = new XYSeries("training loss");
        XYSeries testLoss = new XYSeries("test loss");
        XYSeries testAccuracy = new XYSeries("test accuracy");
        for (TrainCommand.EpochResult e : epochs) {
            trainLoss.add(e.epoch(), e.trainLoss());
            testLoss.add(e.epoch(), e.testLoss());
            testAccuracy.add(e.epoch(), e.testAccuracy());
        }
        XYSeriesCollection losses = new XYSeriesCollection();
        losses.addSeries(trainLoss);
        losses.addSeries(testLoss);
        NumberAxis lossAxis = new NumberAxis("cross-entropy");
        lossAxis.setAutoRangeIncludesZero(true);
        XYPlot lossPlot = new XYPlot(losses, null, lossAxis, renderer(new Color(0x1f77b4), new Color(0xff7f0e)));
        NumberAxis accuracyAxis = new NumberAxis("test accuracy");
        accuracyAxis.setAutoRangeIncludesZero(false);
        XYPlot accuracyPlot = new XYPlot(new XYSeriesCollection(testAccuracy), null, accuracyAxis,
                renderer(new Color(0x2ca02c)));
        NumberAxis epochAxis = new NumberAxis("epoch");
        epochAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(epochAxis);
        plot.add(lossPlot, 3);
        plot.add(accuracyPlot, 2);
        for (XYPlot part : List.of(lossPlot, accuracyPlot)) {
            part.setBackgroundPaint(Color.WHITE);
            part.setDomainGridlinePaint(Color.LIGHT_GRAY);
            part.setRangeGridlinePaint(Color.LIGHT_GRAY);
        }
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        save(file, chart);
    }

    /**
     * Writes a chart of training and validation loss against the iteration (for {@code adjoint lm}).
     *
     * @param file   the PNG to write (replaced if it exists)
     * @param title  the chart's title
     * @param points {@code {iteration, training loss, validation loss}} in order
     */
    static void writeLosses(Path file, String title, List<double[]> points) {
        System.setProperty("java.awt.headless", "true");
        XYSeries trainLoss = new XYSeries("training loss");
        XYSeries validationLoss = new XYSeries("validation loss");
        for (double[] point : points) {
            trainLoss.add(point[0], point[1]);
            validationLoss.add(point[0], point[2]);
        }
        XYSeriesCollection losses = new XYSeriesCollection();
        losses.addSeries(trainLoss);
        losses.addSeries(validationLoss);
        NumberAxis lossAxis = new NumberAxis("cross-entropy (nats per character)");
        lossAxis.setAutoRangeIncludesZero(false);
        NumberAxis iterationAxis = new NumberAxis("iteration");
        iterationAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        XYPlot plot = new XYPlot(losses, iterationAxis, lossAxis, renderer(new Color(0x1f77b4), new Color(0xff7f0e)));
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        save(file, chart);
    }

    /** Renders the chart to a sibling temporary file and renames it over {@code file}. */
    private static void save(Path file, JFreeChart chart) {
        Path absolute = file.toAbsolutePath();
        // A sibling named here rather than by Files.createTempFile, whose owner-only permissions
        // the rename would carry over to the image.
        Path temporary = absolute.resolveSibling("." + absolute.getFileName() + "."
                + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
        try {
            Files.createDirectories(absolute.getParent());
            try (OutputStream out = Files.newOutputStream(temporary, StandardOpenOption.CREATE_NEW)) {
                ChartUtils.writeChartAsPNG(out, chart, WIDTH, HEIGHT);
            }
            Files.move(temporary, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            UncheckedIOException failure = new UncheckedIOException("--plot: cannot write " + file + ": " + e, e);
            deleteAfterFailure(temporary, failure);
            throw failure;
        } catch (RuntimeException | Error e) {
            // Error too: a headless JDK's fonts can fail while rendering, and the temporary file must go.
            deleteAfterFailure(temporary, e);
            throw e;
        }
    }

    private static void deleteAfterFailure(Path temporary, Throwable failure) {
        try {
            Files.deleteIfExists(temporary);
        } catch (IOException cleanup) {
            failure.addSuppressed(cleanup);
        }
    }

    private static XYLineAndShapeRenderer renderer(Color... colors) {
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < colors.length; i++) {
            renderer.setSeriesPaint(i, colors[i]);
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }
        return renderer;
    }
}
