package dev.gpt4j.server;

import dev.gpt4j.core.GptModel;
import dev.gpt4j.data.Schema;
import dev.gpt4j.inference.Generation;
import dev.gpt4j.inference.GenerationOptions;
import dev.gpt4j.inference.Generator;
import dev.gpt4j.inference.TokenListener;
import dev.gpt4j.sql.SqlAnswer;
import dev.gpt4j.sql.TextToSql;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The threads that run the model, and the bounded queue in front of them. A model is not thread-safe, so each thread
 * has its own: the first thread the service's, the others {@link TextToSql#replica}s of it (the weights shared).
 * Questions that wait together are decoded together: a free thread takes the oldest job and, if it is a question,
 * every other waiting question for the same adapter, up to the batch size, and answers them with one
 * {@link TextToSql#askAll} (so a LoRA adapter is switched once per batch, and questions of other adapters wait one
 * batch at most). With two threads, a second batch decodes while the first does, each on a core of its own. A
 * {@code /v1} completion runs alone (its sampling settings are its own). A full queue refuses at once
 * ({@link #submit} returns false), so a client hears 503 instead of waiting without end; a job whose deadline passed
 * while it waited is dropped, not decoded.
 */
final class ModelWorker implements AutoCloseable {

    /** Work for the model; {@link #result} completes with its answer, or exceptionally. */
    abstract static sealed class Job<R> permits SqlJob, CompletionJob {
        final long enqueued = System.nanoTime();
        final long deadline;
        /** Hears each token of sequence i of this job (null: no streaming). */
        final TokenListener listener;
        final CompletableFuture<R> result = new CompletableFuture<>();
        volatile long started;

        Job(long deadline, TokenListener listener) {
            this.deadline = deadline;
            this.listener = listener;
        }

        long queueNanos() {
            return started == 0 ? System.nanoTime() - enqueued : started - enqueued;
        }
    }

    /** One question about one schema, with that database's adapter (null: none). */
    static final class SqlJob extends Job<SqlAnswer> {
        final Schema schema;
        final String question;
        final String adapter;

        SqlJob(Schema schema, String question, String adapter, long deadline, TokenListener listener) {
            super(deadline, listener);
            this.schema = schema;
            this.question = question;
            this.adapter = adapter;
        }
    }

    /** A {@code /v1} completion: {@code prompts.size()} choices of one prompt, decoded with the base model. */
    static final class CompletionJob extends Job<List<Generation>> {
        final List<int[]> prompts;
        final GenerationOptions options;
        final int[] stopTokens;

        CompletionJob(List<int[]> prompts, GenerationOptions options, int[] stopTokens, long deadline, TokenListener listener) {
            super(deadline, listener);
            this.prompts = prompts;
            this.options = options;
            this.stopTokens = stopTokens;
        }
    }

    /** One model thread's assistant (the service's for the first, a replica for the others) and generator. */
    private record Lane(TextToSql t2s, Generator generator) {}

    private final List<Lane> lanes = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final int capacity;
    private final int batchSize;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition waiting = lock.newCondition();
    private final ArrayDeque<Job<?>> queue = new ArrayDeque<>();
    private volatile boolean running = true;
    /** Threads decoding a batch now: counted in when a thread takes one, out before its answers are handed over. */
    private final AtomicInteger busy = new AtomicInteger();
    /** How long a free thread waits for a batch to fill while another decodes. */
    private static final long GATHER_NANOS = 5_000_000;
    /** How long {@link #close} waits for the batches being decoded. */
    private final long closeWaitNanos;
    /** Set by {@link #close}: whether every model thread had ended (so that their models may be freed). */
    private volatile boolean stopped;
    private final AtomicLong batches = new AtomicLong(), batchedQuestions = new AtomicLong();

    /** {@code threads} model threads: the first with {@code t2s}'s model, the others with replicas of it. */
    ModelWorker(TextToSql t2s, int capacity, int batchSize, int threads) {
        this(t2s, capacity, batchSize, threads, 30_000_000_000L);
    }

    /** As above, {@link #close} waiting up to {@code closeWaitNanos} for the batches being decoded. */
    ModelWorker(TextToSql t2s, int capacity, int batchSize, int threads, long closeWaitNanos) {
        this.closeWaitNanos = closeWaitNanos;
        if (threads < 1) throw new IllegalArgumentException("model threads must be at least 1, not " + threads);
        this.capacity = capacity;
        this.batchSize = batchSize;
        t2s.options(t2s.options().withDecoding(t2s.options().decoding().withBatchSize(batchSize)));
        for (int i = 0; i < threads; i++) {
            TextToSql own = i == 0 ? t2s : t2s.replica();
            lanes.add(new Lane(own, new Generator(own.model(), own.tokenizer())));
        }
        for (int i = 0; i < threads; i++) {
            Lane lane = lanes.get(i);
            Thread t = new Thread(() -> run(lane), threads == 1 ? "gpt4j-model" : "gpt4j-model-" + i);
            t.setDaemon(true);
            this.threads.add(t);
        }
        this.threads.forEach(Thread::start);
    }

    /** How many threads run the model. */
    int threads() {
        return threads.size();
    }

    /** Queues a job; false (and the job untouched) if the queue is full or the worker stopped. */
    boolean submit(Job<?> job) {
        lock.lock();
        try {
            if (!running || queue.size() >= capacity) return false;
            queue.add(job);
            waiting.signalAll(); // a thread gathering a batch, or one that waits for any job
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Jobs waiting (not counting the batch being decoded). */
    int waiting() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    int capacity() {
        return capacity;
    }

    /** Batches decoded so far, and the questions in them: their ratio is the mean batch size. */
    long[] batchStats() {
        return new long[] {batches.get(), batchedQuestions.get()};
    }

    private void run(Lane lane) {
        while (running) {
            List<Job<?>> batch;
            try {
                batch = take();
            } catch (InterruptedException e) {
                break;
            }
            if (batch.isEmpty()) continue;
            // not busy any more before a client hears its answer: its next question must not find this thread busy
            // and wait for a batch to fill (a lone client would wait GATHER_NANOS for every question)
            AtomicBoolean counted = new AtomicBoolean(true);
            Runnable idle = () -> {
                if (counted.getAndSet(false)) busy.decrementAndGet();
            };
            try {
                if (batch.get(0) instanceof CompletionJob c) complete(lane, c, idle);
                else answer(lane, batch, idle);
            } catch (Throwable t) { // a job must never be left waiting: fail what is still open
                idle.run();
                for (Job<?> j : batch) j.result.completeExceptionally(t);
                if (t instanceof Error e && !(t instanceof StackOverflowError)) throw e;
            } finally {
                idle.run();
            }
        }
        failWaiting();
    }

    /** The oldest live job and, if it is a question, the other waiting questions of its adapter (up to the batch size). */
    private List<Job<?>> take() throws InterruptedException {
        lock.lock();
        try {
            while (queue.isEmpty() && running) waiting.await();
            if (busy.get() > 0 && batchSize > 1 && queue.peekFirst() instanceof SqlJob) {
                // under load (another thread is decoding): the clients of a batch that just ended ask again within a
                // millisecond or two; waiting that long for them makes one full batch instead of a small one and a wait
                long until = System.nanoTime() + GATHER_NANOS;
                for (long left = GATHER_NANOS; running && queue.size() < batchSize && left > 0; left = until - System.nanoTime()) {
                    waiting.awaitNanos(left);
                }
            }
            List<Job<?>> out = new ArrayList<>();
            long now = System.nanoTime();
            for (Iterator<Job<?>> it = queue.iterator(); it.hasNext(); ) {
                Job<?> j = it.next();
                if (j.result.isDone() || now - j.deadline > 0) { // abandoned by its client, or too late to be of use
                    it.remove();
                    j.result.completeExceptionally(new TimeoutException("waited for the model past the request's time-out"));
                    continue;
                }
                if (out.isEmpty()) {
                    out.add(j);
                    it.remove();
                    if (j instanceof CompletionJob) break;
                } else if (j instanceof SqlJob s && Objects.equals(s.adapter, ((SqlJob) out.get(0)).adapter)) {
                    out.add(j);
                    it.remove();
                    if (out.size() == batchSize) break;
                }
            }
            for (Job<?> j : out) j.started = now;
            if (!out.isEmpty()) busy.incrementAndGet();
            return out;
        } finally {
            lock.unlock();
        }
    }

    private void answer(Lane lane, List<Job<?>> batch, Runnable idle) {
        List<SqlJob> jobs = new ArrayList<>(batch.size());
        for (Job<?> j : batch) jobs.add((SqlJob) j);
        TextToSql t2s = lane.t2s();
        GptModel model = t2s.model();
        String adapter = jobs.get(0).adapter;
        if (!Objects.equals(adapter, model.activeAdapter() == null ? null : activeName(model))) model.setActiveAdapter(adapter);
        List<Schema> schemas = new ArrayList<>();
        List<String> questions = new ArrayList<>();
        for (SqlJob j : jobs) {
            schemas.add(j.schema);
            questions.add(j.question);
        }
        TokenListener fanOut = (seq, tok) -> {
            TokenListener l = jobs.get(seq).listener;
            if (l != null) l.token(0, tok);
        };
        List<SqlAnswer> answers;
        try {
            answers = t2s.askAll(schemas, questions, fanOut);
        } catch (IllegalArgumentException e) {
            // one question that does not fit (checked before any token) must not fail the others: answer one by one
            if (jobs.size() == 1) {
                jobs.get(0).result.completeExceptionally(e);
                return;
            }
            for (SqlJob j : jobs) answer(lane, List.of(j), () -> {});
            return;
        }
        batches.incrementAndGet();
        batchedQuestions.addAndGet(jobs.size());
        idle.run();
        for (int i = 0; i < jobs.size(); i++) jobs.get(i).result.complete(answers.get(i));
    }

    private String activeName(GptModel model) {
        for (var e : model.adapters().entrySet()) if (e.getValue() == model.activeAdapter()) return e.getKey();
        return null;
    }

    private void complete(Lane lane, CompletionJob job, Runnable idle) {
        GptModel model = lane.t2s().model();
        if (model.activeAdapter() != null) model.setActiveAdapter(null); // completions use the base model
        List<Generation> out = lane.generator().generate(job.prompts, job.options, null, job.prompts.size(), job.listener, job.stopTokens);
        idle.run();
        job.result.complete(out);
    }

    private void failWaiting() {
        lock.lock();
        try {
            for (Job<?> j : queue) j.result.completeExceptionally(new IllegalStateException("the server is stopping"));
            queue.clear();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Whether {@link #close} found every model thread ended. If not, a thread is still decoding with its model (and the
     * service's): freeing that model's native memory under it would crash the JVM, so it is left to the process's end.
     */
    boolean stopped() {
        return stopped;
    }

    /**
     * Stops taking jobs, fails those waiting, waits for the batches being decoded (up to the close wait, 30 s by default),
     * and closes the replicas if every thread ended ({@link #stopped}).
     */
    @Override
    public void close() {
        lock.lock();
        try {
            running = false;
            waiting.signalAll();
        } finally {
            lock.unlock();
        }
        long until = System.nanoTime() + closeWaitNanos;
        boolean stopped = true;
        try {
            for (Thread t : threads) {
                t.join(Math.max(1, (until - System.nanoTime()) / 1_000_000));
                stopped &= !t.isAlive();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopped = false;
        }
        failWaiting();
        this.stopped = stopped;
        // a replica's memory is freed only when no thread can still be decoding with it
        if (!stopped) return;
        for (int i = 0; i < lanes.size(); i++) {
            lanes.get(i).generator().close();
            if (i > 0) lanes.get(i).t2s().close();
        }
    }
}
