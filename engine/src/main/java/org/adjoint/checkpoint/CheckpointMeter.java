package org.adjoint.checkpoint;

/**
 * Counts what a checkpointed pass costs, exactly: layer forward calls (first pass and
 * recomputation), and the bytes of activations held for the backward pass — every buffer
 * that a live layer tape saved or a checkpoint slot stores, each counted once, parameters
 * and gradients not counted — with their high-water mark. A buffer is counted at the size
 * of the first tensor seen in it: one saved only through views (a slice, a head) counts as
 * that view, and one that a view of the chain's input reaches (a batch narrowed from a data
 * set) is not charged whole to the chain.
 */
public final class CheckpointMeter {

    private long layerForwardCalls;
    private long savedBytes;
    private long peakSavedBytes;

    /** Creates a meter at zero. */
    public CheckpointMeter() {
    }

    /**
     * Layer forward calls so far.
     *
     * @return the count
     */
    public long layerForwardCalls() {
        return layerForwardCalls;
    }

    /**
     * Activation bytes held now.
     *
     * @return the bytes
     */
    public long savedBytes() {
        return savedBytes;
    }

    /**
     * The most activation bytes held at once so far.
     *
     * @return the high-water mark
     */
    public long peakSavedBytes() {
        return peakSavedBytes;
    }

    /** Sets every count to zero. */
    public void reset() {
        layerForwardCalls = 0;
        savedBytes = 0;
        peakSavedBytes = 0;
    }

    void countForwardCall() {
        layerForwardCalls++;
    }

    void held(long bytes) {
        savedBytes = bytes;
        peakSavedBytes = Math.max(peakSavedBytes, bytes);
    }
}
