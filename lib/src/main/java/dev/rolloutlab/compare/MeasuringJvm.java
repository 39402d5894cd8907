package dev.rolloutlab.compare;

import dev.rolloutlab.process.ChildJvm;
import java.util.List;

/**
 * The child JVM a {@code compare} run measures in: started by the code and with the flags serve's JVM gets, so the
 * in-process engines and the load generator live in a process like the one they are compared with.
 */
public final class MeasuringJvm {
    private MeasuringJvm() {}

    /** Starts {@code compare args…} there, on this JVM's terminal but in a session of its own. */
    public static Process start(List<String> compareArgs) {
        return ChildJvm.attached("compare", compareArgs);
    }
}
