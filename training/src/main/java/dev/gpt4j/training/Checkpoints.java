package dev.gpt4j.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.gpt4j.core.AdamW;
import dev.gpt4j.core.GptModel;
import dev.gpt4j.core.ModelFiles;
import dev.gpt4j.core.SafeTensors;
import dev.gpt4j.tokenizer.AtomicFiles;
import dev.gpt4j.tokenizer.BpeTokenizer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Checkpoint folders: {@code step-000200/} holds a loadable model folder (config.json, model.safetensors,
 * vocab.json, merges.txt) — or, in a LoRA run, a PEFT adapter folder (adapter_config.json,
 * adapter_model.safetensors) and the tokenizer — plus {@code optimizer.safetensors} (AdamW's moments, of what trains)
 * and {@code trainer.json} (step, tokens seen, best metric). A checkpoint is written in a temporary folder and renamed into place, so a folder
 * named {@code step-*} is always complete, even after {@code kill -9}.
 */
public final class Checkpoints {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final String OPTIMIZER = "optimizer.safetensors", STATE = "trainer.json";

    /** What the trainer needs besides weights and moments to continue exactly. */
    public record State(long step, long tokens, double bestMetric, long bestStep, String metric) {}

    /**
     * Called with the temporary folder of a checkpoint once every file is written in it, just before it is renamed
     * into place. Nothing by default; a test pauses a training JVM here to kill it in the middle of writing one.
     */
    static volatile Consumer<Path> beforeRename = tmp -> { };

    private final Path root;

    public Checkpoints(Path root) {
        this.root = root;
    }

    /** Writes a complete checkpoint after {@code state.step()} steps; returns its folder. */
    public Path save(GptModel model, BpeTokenizer tokenizer, AdamW opt, State state) {
        Path dir = root.resolve(String.format("step-%06d", state.step()));
        writeFolder(dir, model, tokenizer, opt, state);
        return dir;
    }

    /** Writes {@code dir} (a model folder, with optimizer and state when given) via a temporary folder and renames. */
    static void writeFolder(Path dir, GptModel model, BpeTokenizer tokenizer, AdamW opt, State state) {
        try {
            Files.createDirectories(dir.getParent());
            Path tmp = Files.createTempDirectory(dir.getParent(), ".tmp-" + dir.getFileName());
            try {
                if (model.baseFrozen() && model.activeAdapter() != null) model.activeAdapter().save(tmp);
                else ModelFiles.save(model, tmp);
                tokenizer.save(tmp);
                if (opt != null) {
                    Map<String, INDArray> t = new LinkedHashMap<>();
                    t.put("m", opt.firstMoment());
                    t.put("v", opt.secondMoment());
                    SafeTensors.write(tmp.resolve(OPTIMIZER), t, Map.of("step", Long.toString(opt.stepCount())), "F32");
                }
                if (state != null) AtomicFiles.write(tmp.resolve(STATE), o -> JSON.writeValue(o, state));
                beforeRename.accept(tmp);
                Path old = null;
                if (Files.exists(dir)) { // replacing (e.g. best/): move the old one aside first, never lose both
                    old = dir.resolveSibling(".old-" + dir.getFileName() + "-" + System.nanoTime());
                    Files.move(dir, old);
                }
                try {
                    Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, dir);
                }
                if (old != null) deleteTree(old);
            } finally {
                if (Files.exists(tmp)) deleteTree(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the checkpoint " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The complete checkpoints, oldest first. */
    public List<Path> list() {
        if (!Files.isDirectory(root)) return List.of();
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> p.getFileName().toString().matches("step-\\d+") && Files.isRegularFile(p.resolve(STATE)))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root + ": " + e.getMessage(), e);
        }
    }

    public Optional<Path> latest() {
        List<Path> all = list();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /** Deletes all but the newest {@code keep} checkpoints, and leftovers of interrupted writes. */
    public void prune(int keep) {
        List<Path> all = list();
        for (int i = 0; i < all.size() - keep; i++) deleteTree(all.get(i));
        if (!Files.isDirectory(root)) return;
        try (Stream<Path> s = Files.list(root)) {
            s.filter(p -> p.getFileName().toString().startsWith(".tmp-") || p.getFileName().toString().startsWith(".old-"))
                    .forEach(Checkpoints::deleteTree);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static State readState(Path dir) {
        Path f = dir.resolve(STATE);
        try {
            JsonNode n = JSON.readTree(f.toFile());
            return new State(n.get("step").asLong(), n.get("tokens").asLong(), n.get("bestMetric").asDouble(), n.get("bestStep").asLong(),
                    n.get("metric").asText());
        } catch (IOException | NullPointerException e) {
            throw new IllegalArgumentException(f + ": not a trainer state file: " + e.getMessage(), e);
        }
    }

    /** Restores AdamW's moments and step count from a checkpoint folder. */
    public static void restoreOptimizer(Path dir, AdamW opt) {
        SafeTensors.Reader r = SafeTensors.open(dir.resolve(OPTIMIZER));
        INDArray m = opt.firstMoment().dup(), v = opt.secondMoment().dup();
        r.readInto("m", m);
        r.readInto("v", v);
        String step = r.metadata().get("step");
        if (step == null) throw new IllegalArgumentException(dir.resolve(OPTIMIZER) + ": no step count in its metadata");
        opt.restore(m, v, Long.parseLong(step));
    }

    /** Deletes a folder and everything in it (nothing if it does not exist). */
    public static void deleteTree(Path p) {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + p + ": " + e.getMessage(), e);
        }
    }
}
