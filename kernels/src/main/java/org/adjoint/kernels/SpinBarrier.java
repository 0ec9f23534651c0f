package org.adjoint.kernels;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A reusable barrier for the few threads of one GEMM: they meet between packing B and
 * using it, several times per call, and a parking barrier's wake-up latency (tens of
 * microseconds) would cost more than the work between meetings on small products. Threads
 * spin briefly, then yield.
 */
final class SpinBarrier {

    private final int parties;
    private final AtomicInteger arrived = new AtomicInteger();
    private volatile int generation;

    SpinBarrier(int parties) {
        this.parties = parties;
    }

    void await() {
        int current = generation;
        if (arrived.incrementAndGet() == parties) {
            arrived.set(0);
            generation = current + 1;
            return;
        }
        int spins = 0;
        while (generation == current) {
            if (++spins < 1 << 12) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
    }
}
