package dev.gpt4j.core;

import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The threads that run {@link Kernels#parallel}'s parts beside the caller: one worker per extra part, each waiting
 * for its next part by spinning a little (then yielding) before it parks. A forward calls ~10 kernels per layer,
 * some 100 us apart; handing each to a pool whose worker had parked cost a futex wake-up per call (12% of a 64-token
 * prefill's CPU samples were {@code pthread_cond_signal}). A worker that is still spinning takes its part within
 * nanoseconds, and one that has parked is woken as before.
 *
 * <p>One caller at a time: a second thread that calls while the team is busy runs all its parts itself (the parts
 * are fixed, so where they run never changes a result), and a part that calls {@link #run} again runs inline.
 */
final class Team {
    /** How long a worker spins for a next part before parking: a few kernels' gap, so that a burst of kernels (a forward) never parks. */
    private static final long SPIN_NANOS = 200_000;
    /** Busy-wait iterations between yields while spinning (the caller's join uses the same). */
    private static final int SPINS_PER_YIELD = 64;

    private final Worker[] workers;
    private final ReentrantLock lock = new ReentrantLock();

    Team(int workers, String name) {
        this.workers = new Worker[workers];
        for (int i = 0; i < workers; i++) {
            Worker w = new Worker(name + "-" + i);
            w.setDaemon(true);
            w.start();
            this.workers[i] = w;
        }
    }

    /** Part p of {@code parts} (p = 0 is the caller's). */
    interface Part {
        void run(int p);
    }

    /** Runs parts 0 .. parts-1 of {@code body}, part 0 on the calling thread, the others on the workers; returns when all are done. */
    void run(int parts, Part body) {
        if (parts > workers.length + 1) throw new IllegalArgumentException(parts + " parts for " + workers.length + " workers and the caller");
        // inline: a part calling again (on a worker, or on the caller, which holds the lock already: the workers are
        // busy with this call's parts), or a second caller while the team is busy
        if (parts <= 1 || Thread.currentThread() instanceof Worker || lock.isHeldByCurrentThread() || !lock.tryLock()) {
            for (int p = 0; p < parts; p++) body.run(p);
            return;
        }
        try {
            for (int p = 1; p < parts; p++) workers[p - 1].give(body, p);
            Throwable failed = null;
            try {
                body.run(0);
            } catch (Throwable t) {
                failed = t;
            }
            for (int p = 1; p < parts; p++) {
                Throwable t = workers[p - 1].await();
                if (failed == null) failed = t;
                else if (t != null && t != failed) failed.addSuppressed(t);
            }
            if (failed instanceof RuntimeException e) throw e;
            if (failed instanceof Error e) throw e;
            if (failed != null) throw new IllegalStateException(failed);
        } finally {
            lock.unlock();
        }
    }

    private static final class Worker extends Thread {
        private volatile Part body;
        private volatile int part;
        /** Set by the worker when its part is done (and body cleared); read by the caller's await. */
        private volatile boolean done = true;
        private volatile boolean parked;
        private volatile Throwable error;
        private volatile Thread waiter;

        Worker(String name) {
            super(name);
        }

        void give(Part b, int p) {
            error = null;
            done = false;
            part = p;
            body = b; // the volatile write that publishes the part
            if (parked) LockSupport.unpark(this);
        }

        Throwable await() {
            int spins = 0;
            long start = 0;
            while (!done) {
                if (++spins % SPINS_PER_YIELD != 0) {
                    Thread.onSpinWait();
                    continue;
                }
                if (start == 0) start = System.nanoTime();
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.yield();
                } else {
                    waiter = Thread.currentThread();
                    if (!done) LockSupport.parkNanos(this, 50_000);
                    waiter = null;
                }
            }
            return error;
        }

        @Override
        public void run() {
            while (true) {
                Part b = body;
                if (b == null) {
                    b = waitForPart();
                }
                try {
                    b.run(part);
                } catch (Throwable t) {
                    error = t;
                }
                body = null;
                done = true;
                Thread w = waiter;
                if (w != null) LockSupport.unpark(w);
            }
        }

        /** Spins, then yields, then parks until a part is given. */
        private Part waitForPart() {
            long start = System.nanoTime();
            int spins = 0;
            while (true) {
                Part b = body;
                if (b != null) return b;
                if (++spins % SPINS_PER_YIELD != 0) {
                    Thread.onSpinWait();
                } else if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.yield();
                } else {
                    parked = true;
                    b = body; // re-read after announcing: a give() that missed the flag has published its part by now
                    if (b == null) LockSupport.park(this);
                    parked = false;
                    start = System.nanoTime();
                }
            }
        }
    }
}
