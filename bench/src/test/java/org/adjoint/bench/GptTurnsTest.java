package org.adjoint.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * GptTurns compares two builds only if one build's step is deterministic: two steps made alike
 * give the same losses, iteration by iteration, while the model trains. Bad arguments are
 * refused before anything loads.
 */
class GptTurnsTest {

    @Test
    void twoStepsMadeAlikeGiveTheSameLossesWhileTheyTrain() {
        GptTurnStep first = new GptTurnStep();
        GptTurnStep second = new GptTurnStep();
        long a1 = first.getAsLong();
        long a2 = first.getAsLong();
        assertEquals(a1, second.getAsLong());
        assertEquals(a2, second.getAsLong());
        assertNotEquals(a1, a2, "the second batch and the updated weights give another loss");
        float loss = Float.intBitsToFloat((int) a1);
        // Near ln 65 = 4.17 at the start, as any fresh model over 65 letters.
        assertTrue(loss > 3.5f && loss < 5f, "first loss " + loss);
    }

    @Test
    void refusesBadArgumentsNamingThem() {
        IllegalArgumentException few = assertThrows(IllegalArgumentException.class,
                () -> GptTurns.main(new String[] {"old.jar"}));
        assertTrue(few.getMessage().contains("expected OLD.jar NEW.jar"), few.getMessage());
        IllegalArgumentException word = assertThrows(IllegalArgumentException.class,
                () -> GptTurns.main(new String[] {"old.jar", "new.jar", "ten"}));
        assertEquals("GptTurns: argument 3 must be a whole number, got 'ten'", word.getMessage());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> GptTurns.main(new String[] {"old.jar", "new.jar", "1", "0"}));
        assertEquals("GptTurns: argument 4 must be at least 1, got 0", none.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> GptTurns.main(new String[] {"no-such-dir/old.jar", "new.jar"}));
        assertTrue(missing.getMessage().startsWith("GptTurns: no jar at ")
                && missing.getMessage().endsWith("old.jar"), missing.getMessage());
    }
}
