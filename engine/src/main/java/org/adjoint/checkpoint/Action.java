package org.adjoint.checkpoint;

/**
 * One step of a {@link Schedule}. States are numbered {@code 0..n}: state 0 is the chain's
 * input, state {@code i} the output of layer {@code i} (layers are numbered from 1).
 *
 * @param kind  what to do
 * @param index the layer (for {@link Kind#ADVANCE}, {@link Kind#RECORD}, {@link Kind#REVERSE})
 *              or the state (for {@link Kind#STORE}, {@link Kind#RESTORE}, {@link Kind#FREE})
 */
public record Action(Kind kind, int index) {

    /** The kinds of action. */
    public enum Kind {
        /** Run layer {@code index} on the current state without recording: one forward call. */
        ADVANCE,
        /** Keep the current state {@code index} in a slot. */
        STORE,
        /** Make stored state {@code index} (or the chain input, 0) the current state. */
        RESTORE,
        /** Run layer {@code index} on the current state, recording its tape: one forward call. */
        RECORD,
        /** Backpropagate through layer {@code index}'s tape and drop it. */
        REVERSE,
        /** Drop the slot holding state {@code index}. */
        FREE
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase(java.util.Locale.ROOT) + " " + index;
    }
}
