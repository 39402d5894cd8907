package dev.rolloutlab.lb;

import dev.rolloutlab.http1.HttpIn;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The balancer's budget for request bodies in flight. Bodies are read as their bytes arrive, and each buffer is taken
 * from this budget first: sockets that declare 8 MiB and send one byte hold 64 KiB each, and past the budget a request
 * gets a 503 instead of the balancer running out of heap.
 */
final class BodyMemory {
    private final long budget;
    private final AtomicLong held = new AtomicLong();

    BodyMemory(long budget) {
        this.budget = budget;
    }

    /** Bytes held by bodies in flight now. */
    long held() {
        return held.get();
    }

    Lease lease() {
        return new Lease();
    }

    /** What one request's body holds; closing it gives all of it back. */
    final class Lease implements HttpIn.Body.Grant, AutoCloseable {
        private long taken;

        @Override
        public void take(long bytes) throws Spent {
            if (held.addAndGet(bytes) > budget) {
                held.addAndGet(-bytes);
                throw new Spent("request bodies in flight have used the balancer's " + (budget >> 20)
                        + " MiB budget (--max-body-memory-mb); retry shortly");
            }
            taken += bytes;
        }

        @Override
        public void close() {
            held.addAndGet(-taken);
            taken = 0;
        }
    }

    /** The budget is spent: answer 503, keep serving the others. */
    static final class Spent extends IOException {
        Spent(String message) {
            super(message);
        }
    }
}
