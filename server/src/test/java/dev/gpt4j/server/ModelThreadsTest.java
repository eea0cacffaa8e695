package dev.gpt4j.server;

import dev.gpt4j.data.DdlSchemas;
import dev.gpt4j.data.Schema;
import dev.gpt4j.inference.GenerationOptions;
import dev.gpt4j.sql.SqlAnswer;
import dev.gpt4j.sql.TextToSql;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Several model threads behind one queue ({@link ModelWorker}): two jobs really decode at the same time (one job's
 * tokens arrive while the other's decoding is held), and questions answered by two threads get the answers one thread
 * gives them.
 */
class ModelThreadsTest {
    static final long MINUTE = TimeUnit.MINUTES.toNanos(1);

    static ModelWorker.CompletionJob completion(TextToSql t2s, String prompt, dev.gpt4j.inference.TokenListener listener) {
        int[] p = t2s.tokenizer().encode(prompt);
        // no stop token (-1 is none): six tokens whatever the model would end with
        return new ModelWorker.CompletionJob(List.of(p), GenerationOptions.greedy(6), new int[] {-1}, System.nanoTime() + MINUTE, listener);
    }

    @Test
    void withTwoThreadsASecondJobDecodesWhileTheFirstIsHeld() throws Exception {
        try (TextToSql t2s = TextToSql.load(TestServer.MODEL); ModelWorker w = new ModelWorker(t2s, 8, 8, 2)) {
            assertEquals(2, w.threads());
            CountDownLatch firstStarted = new CountDownLatch(1), secondToken = new CountDownLatch(1);
            AtomicBoolean heardWhileHeld = new AtomicBoolean();
            var first = completion(t2s, "SELECT name FROM", (seq, tok) -> {
                if (firstStarted.getCount() == 0) return;
                firstStarted.countDown();
                try { // hold this thread's decoding until the other job has decoded a token (one thread never would)
                    heardWhileHeld.set(secondToken.await(20, TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(w.submit(first));
            assertTrue(firstStarted.await(30, TimeUnit.SECONDS), () -> "the first job started decoding: " + first.result);
            var second = completion(t2s, "SELECT count(*) FROM", (seq, tok) -> secondToken.countDown());
            assertTrue(w.submit(second));
            assertEquals(6, second.result.get(60, TimeUnit.SECONDS).get(0).tokens().length);
            assertEquals(6, first.result.get(60, TimeUnit.SECONDS).get(0).tokens().length);
            assertTrue(heardWhileHeld.get(), "the second job decoded while the first one's thread was held");
        }
    }

    @Test
    void closingWhileAQuestionStillDecodesLeavesTheModelToIt(@TempDir Path dir) throws Exception {
        // the service's close waits (here 300 ms) for what the model threads decode; one still decoding after that keeps
        // the model's memory, which must not be freed under it
        SqlService service = SqlService.builder(TextToSql.load(TestServer.MODEL)).log(dir.resolve("log.db"))
                .database(ServedDatabase.of("employees", TestServer.DB, TestServer.DDL)).modelThreads(2)
                .closeWait(TimeUnit.MILLISECONDS.toNanos(300)).build();
        CountDownLatch started = new CountDownLatch(1), release = new CountDownLatch(1);
        TextToSql t2s = TextToSql.load(TestServer.MODEL); // only for its tokenizer
        var held = completion(t2s, "SELECT name FROM", (seq, tok) -> {
            if (started.getCount() == 0) return;
            started.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        t2s.close();
        assertTrue(service.worker().submit(held));
        assertTrue(started.await(30, TimeUnit.SECONDS), () -> "the job started decoding: " + held.result);
        long t0 = System.nanoTime();
        service.close();
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(20), "close waited its 300 ms, not for the job");
        assertFalse(service.worker().stopped(), "a model thread was still decoding when close gave up waiting");
        release.countDown();
        assertEquals(6, held.result.get(60, TimeUnit.SECONDS).get(0).tokens().length, "the held job decoded on to its end");
    }

    @Test
    void questionsAnsweredByTwoThreadsGetTheAnswersOfOne() throws Exception {
        Schema schema = DdlSchemas.read(TestServer.DDL);
        List<String> questions = List.of("How many employees are there?", "List the names of all departments.",
                "What is the average salary?", "Which employee has the highest salary?", "How many departments are there?",
                "List all projects.", "What are the names of employees in department 1?", "Count the projects.",
                "What is the total salary of all employees?", "Show the first names of employees.");
        List<List<String>> runs = new ArrayList<>();
        for (int threads : new int[] {1, 2}) {
            try (TextToSql t2s = TextToSql.load(TestServer.MODEL); ModelWorker w = new ModelWorker(t2s, 64, 4, threads)) {
                List<ModelWorker.SqlJob> jobs = new ArrayList<>();
                for (String q : questions) {
                    var j = new ModelWorker.SqlJob(schema, q, null, System.nanoTime() + MINUTE, null);
                    assertTrue(w.submit(j));
                    jobs.add(j);
                }
                List<String> sql = new ArrayList<>();
                for (var j : jobs) {
                    SqlAnswer a = j.result.get(120, TimeUnit.SECONDS);
                    sql.add(a.sql());
                }
                long[] stats = w.batchStats();
                assertEquals(questions.size(), stats[1], "every question was in a batch");
                runs.add(sql);
            }
        }
        assertEquals(runs.get(0), runs.get(1));
    }
}
