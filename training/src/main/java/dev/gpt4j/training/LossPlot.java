package dev.gpt4j.training;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gpt4j.tokenizer.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A PNG of the loss curves (train, validation) and, on a second axis, the accuracy, from the metrics rows. */
public final class LossPlot {
    private LossPlot() {}

    public static void write(List<ObjectNode> rows, String title, Path png) {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(900).height(520).title(title).xAxisTitle("step").yAxisTitle("loss").build();
        chart.getStyler().setMarkerSize(4);
        add(chart, rows, "loss", "train loss", 0, false);
        add(chart, rows, "val_loss", "validation loss", 0, true);
        if (add(chart, rows, "accuracy", "dev accuracy", 1, true)) {
            chart.setYAxisGroupTitle(1, "accuracy");
        }
        try {
            byte[] bytes = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
            AtomicFiles.write(png, o -> o.write(bytes));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + png + ": " + e.getMessage(), e);
        }
    }

    private static boolean add(XYChart chart, List<ObjectNode> rows, String key, String name, int axis, boolean markers) {
        List<Double> xs = new ArrayList<>(), ys = new ArrayList<>();
        for (ObjectNode r : rows) {
            if (r.has(key) && r.get(key).isNumber() && Double.isFinite(r.get(key).asDouble())) {
                xs.add(r.get("step").asDouble());
                ys.add(r.get(key).asDouble());
            }
        }
        if (xs.isEmpty()) return false;
        XYSeries s = chart.addSeries(name, xs, ys);
        s.setYAxisGroup(axis);
        s.setMarker(markers ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
        return true;
    }
}
