package dev.gpt4j.training;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class TrainConfigTest {

    @Test
    void readsYamlAndJsonOverTheDefaultsAndAppliesOverrides(@TempDir Path dir) throws Exception {
        Path yaml = dir.resolve("c.yaml");
        Files.writeString(yaml, "mode: finetune\nout: runs/x\ninit: runs/p/model\nsteps: 300\nlr: 3.0e-4\npreset: tiny\n");
        TrainConfig c = TrainConfig.of(TrainConfig.read(yaml));
        assertEquals("finetune", c.mode());
        assertEquals(300, c.steps());
        assertEquals(3e-4, c.lr());
        assertEquals(8, c.batchSize(), "a default");
        TrainConfig o = c.with(Map.of("batch_size", "16", "min_lr", "0"));
        assertEquals(16, o.batchSize());
        assertEquals(0.0, o.minLr());
        assertEquals(c.steps(), o.steps());
        Path json = dir.resolve("c.json");
        o.write(json);
        assertEquals(o, TrainConfig.of(TrainConfig.read(json)), "written and read back");
        assertEquals(128, o.modelConfig(4096).embedDim());
        assertEquals(96, o.with(Map.of("embed_dim", "96", "heads", "3")).modelConfig(100).embedDim());
    }

    @Test
    void unknownKeysAndBadValuesNameTheKey(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.json");
        Files.writeString(f, "{\"out\": \"x\", \"learning_rate\": 0.1}");
        var e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.read(f));
        assertTrue(e.getMessage().contains("learning_rate") && e.getMessage().contains(f.toString()), e.getMessage());
        TrainConfig ok = TrainConfig.of(Map.of("out", "x"));
        for (var bad : Map.of("steps", "0", "lr", "-1", "batch_size", "ten", "preset", "huge", "datasets", "wikisql,imdb", "dropout", "1.5",
                "mode", "train").entrySet()) {
            var ex = assertThrows(IllegalArgumentException.class, () -> ok.with(Map.of(bad.getKey(), bad.getValue())), bad.toString());
            assertTrue(ex.getMessage().contains(bad.getKey()) || ex.getMessage().contains(bad.getValue()), ex.getMessage());
        }
        var ex = assertThrows(IllegalArgumentException.class, () -> TrainConfig.of(Map.of("out", "x", "mode", "finetune")));
        assertTrue(ex.getMessage().contains("init"), ex.getMessage());
        Files.writeString(f, "{\"out\": [1, 2]}");
        assertThrows(IllegalArgumentException.class, () -> TrainConfig.read(f));
        Files.writeString(f, "{\"out\": ");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TrainConfig.read(f)).getMessage().contains(f.toString()));
    }

    @Test
    void datasetsMayRepeatOne() {
        TrainConfig ok = TrainConfig.of(Map.of("out", "x"));
        assertEquals(Map.of("wikisql", 1, "spider", 1), ok.datasetRepeats());
        assertEquals(Map.of("wikisql", 1, "spider", 3), ok.with(Map.of("datasets", "wikisql, spider*3")).datasetRepeats());
        assertEquals(Map.of("spider", 2), ok.with(Map.of("datasets", "spider * 2")).datasetRepeats());
        assertEquals(Map.of("wikisql", 1, "spider", 1, "drills", 1, "drills2", 2), ok.with(Map.of("datasets", "wikisql,spider,drills,drills2*2")).datasetRepeats());
        for (String bad : List.of("spider*0", "spider*x", "spider*", "wikisql,wikisql*2", "spider*101", "wikisql,", "imdb*2")) {
            var e = assertThrows(IllegalArgumentException.class, () -> ok.with(Map.of("datasets", bad)), bad);
            assertTrue(e.getMessage().contains("datasets") && e.getMessage().contains(bad), e.getMessage());
        }
    }

    @Test
    void scheduleWarmsUpThenFollowsTheCosine() {
        LrSchedule s = new LrSchedule(1e-3, 1e-4, 10, 110);
        assertEquals(1e-4, s.at(0), 1e-12);
        assertEquals(5e-4, s.at(4), 1e-12);
        assertEquals(1e-3, s.at(9), 1e-12);
        assertEquals(1e-3, s.at(10), 1e-12);
        assertEquals((1e-3 + 1e-4) / 2, s.at(60), 1e-12);
        assertEquals(1e-4, s.at(110), 1e-12);
        for (int i = 11; i < 110; i++) assertTrue(s.at(i) < s.at(i - 1), "decreasing at " + i);
    }
}
