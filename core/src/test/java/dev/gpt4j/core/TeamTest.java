package dev.gpt4j.core;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The worker team behind Kernels.parallel: each part runs once, on a worker when the team is free; a part's exception
 * reaches the caller; a part that calls the team again, and a second caller while it is busy, run inline; a worker
 * that has parked wakes for the next call.
 */
class TeamTest {

    @Test
    void everyPartRunsOnceAndTheWorkersTakeTheirs() {
        Team team = new Team(3, "test-team");
        for (int call = 0; call < 2_000; call++) {
            AtomicIntegerArray runs = new AtomicIntegerArray(4);
            String[] where = new String[4];
            team.run(4, p -> {
                runs.incrementAndGet(p);
                where[p] = Thread.currentThread().getName();
            });
            for (int p = 0; p < 4; p++) assertEquals(1, runs.get(p), "call " + call + ", part " + p);
            assertEquals(Thread.currentThread().getName(), where[0], "part 0 is the caller's");
            for (int p = 1; p < 4; p++) assertEquals("test-team-" + (p - 1), where[p], "part " + p);
        }
    }

    @Test
    void aPartsExceptionReachesTheCallerAndTheTeamGoesOn() {
        Team team = new Team(1, "test-team");
        IllegalStateException boom = new IllegalStateException("part 1 failed");
        IllegalStateException got = assertThrows(IllegalStateException.class, () -> team.run(2, p -> {
            if (p == 1) throw boom;
        }));
        assertSame(boom, got);
        AssertionError own = assertThrows(AssertionError.class, () -> team.run(2, p -> {
            if (p == 0) throw new AssertionError("part 0 failed");
        }));
        assertEquals("part 0 failed", own.getMessage());
        AtomicIntegerArray runs = new AtomicIntegerArray(2);
        team.run(2, runs::incrementAndGet);
        assertEquals(1, runs.get(0));
        assertEquals(1, runs.get(1));
    }

    @Test
    void nestedCallsAndASecondCallerRunInline() {
        Team team = new Team(1, "test-team");
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            // part 0 (the caller, holding the team) and part 1 (the worker) both call again, many times, so that
            // the caller's nested call comes while the worker is still busy with its outer part
            for (int call = 0; call < 2_000; call++) {
                AtomicIntegerArray inner = new AtomicIntegerArray(4);
                team.run(2, p -> {
                    if (p == 1) spin(20_000);
                    team.run(2, q -> inner.incrementAndGet(2 * p + q));
                });
                for (int i = 0; i < 4; i++) assertEquals(1, inner.get(i), "call " + call + ", nested part " + i);
            }

            // two threads hammering the team: every part of every call runs exactly once, whoever runs it
            int calls = 20_000;
            AtomicIntegerArray counts = new AtomicIntegerArray(4);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch go = new CountDownLatch(1);
            Thread[] ts = new Thread[2];
            for (int t = 0; t < 2; t++) {
                int base = 2 * t;
                ts[t] = new Thread(() -> {
                    try {
                        go.await();
                        for (int c = 0; c < calls; c++) team.run(2, p -> counts.incrementAndGet(base + p));
                    } catch (Throwable e) {
                        failure.set(e);
                    }
                });
                ts[t].start();
            }
            go.countDown();
            for (Thread t : ts) t.join();
            assertNull(failure.get());
            for (int i = 0; i < 4; i++) assertEquals(calls, counts.get(i), "counter " + i);
        });
    }

    private static void spin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) Thread.onSpinWait();
    }

    @Test
    void aParkedWorkerWakesForTheNextCall() throws InterruptedException {
        Team team = new Team(1, "test-team");
        for (int call = 0; call < 5; call++) {
            Thread.sleep(20); // far past the spin: the worker has parked
            String[] where = new String[2];
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> team.run(2, p -> where[p] = Thread.currentThread().getName()));
            assertEquals("test-team-0", where[1], "call " + call);
        }
    }

    @Test
    void tooManyPartsAreRefused() {
        Team team = new Team(1, "test-team");
        assertThrows(IllegalArgumentException.class, () -> team.run(3, p -> {}));
    }
}
