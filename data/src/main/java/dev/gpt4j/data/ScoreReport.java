package dev.gpt4j.data;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gpt4j.tokenizer.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The outcome of scoring a predictions file: every item, the questions skipped (with why), the overall
 * accuracy, per-part accuracy (WikiSQL) and accuracy by hardness level (Spider). {@link #summary()} is the
 * one-screen report (its last line is the accuracy); {@link #writeJson(Path)} writes everything.
 */
public record ScoreReport(String dataset, String split, String metric, List<ScoreItem> items, List<String> skipped, long nanos) {
    public ScoreReport {
        items = List.copyOf(items);
        skipped = List.copyOf(skipped);
    }

    /** Questions scored (skipped ones excluded). */
    public int scored() {
        return items.size();
    }

    public int correct() {
        int n = 0;
        for (ScoreItem i : items) {
            n += i.correct() ? 1 : 0;
        }
        return n;
    }

    /** Fraction correct among the scored questions (0 when none was scored). */
    public double accuracy() {
        return items.isEmpty() ? 0 : (double) correct() / items.size();
    }

    /** Accuracy of each part (agg, select, where for WikiSQL), in name order. */
    public Map<String, Double> partAccuracy() {
        Map<String, int[]> counts = new LinkedHashMap<>();
        for (ScoreItem i : items) {
            for (String part : new TreeSet<>(i.parts().keySet())) {
                int[] c = counts.computeIfAbsent(part, k -> new int[2]);
                c[0] += i.parts().get(part) ? 1 : 0;
                c[1]++;
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        counts.forEach((k, c) -> out.put(k, (double) c[0] / c[1]));
        return out;
    }

    /** Per level: {correct, total}, in the order easy, medium, hard, extra (levels that occur). */
    public Map<String, int[]> byLevel() {
        Map<String, int[]> out = new LinkedHashMap<>();
        for (Hardness h : Hardness.values()) {
            for (ScoreItem i : items) {
                if (h.label().equals(i.level())) {
                    int[] c = out.computeIfAbsent(h.label(), k -> new int[2]);
                    c[0] += i.correct() ? 1 : 0;
                    c[1]++;
                }
            }
        }
        return out;
    }

    /** Counts of failure reasons (first word of the error: refused, error, timeout, parse, mismatch). */
    public Map<String, Integer> failures() {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (ScoreItem i : items) {
            if (!i.correct() && i.error() != null) {
                String kind = i.error().split(":", 2)[0];
                out.merge(kind, 1, Integer::sum);
            }
        }
        return out;
    }

    /** The one-screen report; the last line is {@code <metric>: <accuracy>% (<correct>/<scored>)}. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s %s: %d questions scored, %d skipped, %.1f s%n",
                dataset, split, scored(), skipped.size(), nanos / 1e9));
        // the same reason for many questions (a missing database) is one line with a count
        Map<String, Integer> reasons = new LinkedHashMap<>();
        for (String s : skipped) {
            reasons.merge(s.replaceFirst("^\\S+#\\d+ ", ""), 1, Integer::sum);
        }
        int shown = 0;
        for (Map.Entry<String, Integer> e : reasons.entrySet()) {
            if (shown++ == 5) {
                sb.append("  ... ").append(reasons.size() - 5).append(" more reasons\n");
                break;
            }
            sb.append("  skipped ").append(e.getValue()).append(": ").append(e.getKey()).append('\n');
        }
        for (Map.Entry<String, Double> e : partAccuracy().entrySet()) {
            sb.append(String.format(Locale.ROOT, "  %-8s %6.2f%%%n", e.getKey(), 100 * e.getValue()));
        }
        for (Map.Entry<String, int[]> e : byLevel().entrySet()) {
            int[] c = e.getValue();
            sb.append(String.format(Locale.ROOT, "  %-8s %6.2f%% (%d/%d)%n", e.getKey(), 100.0 * c[0] / c[1], c[0], c[1]));
        }
        Map<String, Integer> f = failures();
        if (!f.isEmpty()) {
            sb.append("  failures:");
            f.forEach((k, v) -> sb.append(' ').append(k).append('=').append(v));
            sb.append('\n');
        }
        sb.append(String.format(Locale.ROOT, "%s: %.2f%% (%d/%d)", metric, 100 * accuracy(), correct(), scored()));
        return sb.toString();
    }

    /** Writes the whole report as JSON (atomically). */
    public void writeJson(Path file) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("dataset", dataset).put("split", split).put("metric", metric);
        root.put("scored", scored()).put("correct", correct()).put("accuracy", accuracy());
        root.put("seconds", nanos / 1e9);
        ObjectNode parts = root.putObject("parts");
        partAccuracy().forEach(parts::put);
        ObjectNode levels = root.putObject("levels");
        byLevel().forEach((k, c) -> levels.putObject(k).put("correct", c[0]).put("total", c[1]).put("accuracy", (double) c[0] / c[1]));
        ObjectNode fails = root.putObject("failures");
        failures().forEach(fails::put);
        ArrayNode sk = root.putArray("skipped");
        skipped.forEach(sk::add);
        ArrayNode arr = root.putArray("items");
        for (ScoreItem i : items) {
            ObjectNode o = arr.addObject();
            o.put("index", i.index()).put("db", i.db()).put("question", i.question()).put("gold", i.gold())
                    .put("predicted", i.predicted()).put("correct", i.correct());
            if (!i.parts().isEmpty()) {
                ObjectNode p = o.putObject("parts");
                new TreeSet<>(i.parts().keySet()).forEach(k -> p.put(k, i.parts().get(k)));
            }
            if (i.level() != null) {
                o.put("level", i.level());
            }
            if (i.error() != null) {
                o.put("error", i.error());
            }
        }
        try {
            AtomicFiles.write(file, out -> Json.MAPPER.copy().enable(SerializationFeature.INDENT_OUTPUT)
                    .disable(com.fasterxml.jackson.core.JsonGenerator.Feature.AUTO_CLOSE_TARGET).writeValue(out, root));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** The items that were wrong, for a quick look. */
    public List<ScoreItem> wrong() {
        List<ScoreItem> out = new ArrayList<>();
        for (ScoreItem i : items) {
            if (!i.correct()) {
                out.add(i);
            }
        }
        return out;
    }
}
