package dev.gpt4j.benchmarks;

import dev.gpt4j.data.DdlSchemas;
import dev.gpt4j.data.Schema;
import dev.gpt4j.data.SqliteDatabase;
import dev.gpt4j.training.Adaptation;

import java.nio.file.Path;
import java.util.Set;

/**
 * For choosing gpt4j adapt's settings on our own validation databases (benchmarks/adapt): one adaptation that keeps
 * its adapter every K steps, so that PairsEval can score each against hand-written questions.
 *
 * <pre>java -cp benchmarks.jar dev.gpt4j.benchmarks.AdaptCurve MODEL DB OUT STEPS EVERY LR REPLAY [PHRASINGS]</pre>
 */
public final class AdaptCurve {
    private AdaptCurve() {}

    public static void main(String[] args) {
        Path model = Path.of(args[0]), db = Path.of(args[1]), out = Path.of(args[2]);
        int steps = Integer.parseInt(args[3]), every = Integer.parseInt(args[4]);
        double lr = Double.parseDouble(args[5]), replay = Double.parseDouble(args[6]);
        int phrasings = args.length > 7 ? Integer.parseInt(args[7]) : 2;
        Schema s;
        try (SqliteDatabase d = SqliteDatabase.open(db)) {
            s = d.schema();
        }
        Adaptation.Settings st = Adaptation.Settings.defaults().withSteps(steps).withLr(lr, lr / 10).withReplay(replay, 0.7);
        st = st.withDrills(st.drills().withPhrasings(phrasings).withHeldOut(Set.of("Show me the average salary by department")));
        new Adaptation(model, st, System.out).progressBar(false).keepCheckpoints(every, out.resolveSibling(out.getFileName() + "-ckpt"))
                .adapt(new Adaptation.Request(s.name(), s, "database " + db, db, null, out, true));
    }
}
