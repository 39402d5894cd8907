package dev.rolloutlab.compare;

/**
 * A shared-prefix workload of {@code compare --workload}, and its sizes: per leg and round, {@code units} groups of
 * {@code groupSize} samples of a {@code promptLen}-token prompt, or {@code units} sessions of {@code turns} turns (each
 * appending its answer and {@code toolTokens}), every answer {@code outputLen} tokens; for the trace, {@code promptLen}
 * is the tokens each of its blocks becomes. Answers come whole unless {@code stream}: an RL trainer waits for a
 * rollout's whole answer, and streaming it token by token wakes serve's writer, the balancer's relay and the client
 * once a token, on the cores the engines decode on.
 */
public record PrefixWorkload(
        Kind kind,
        int units,
        int groupSize,
        int promptLen,
        int outputLen,
        int turns,
        int toolTokens,
        int rounds,
        boolean stream) {
    /** Which shared-prefix workload. */
    public enum Kind {
        GROUPS,
        SESSIONS,
        /** The synthetic Mooncake trace shipped with bench, at its own times, its blocks scaled to the model. */
        TRACE;

        public static Kind parse(String s) {
            return switch (s) {
                case "groups" -> GROUPS;
                case "sessions" -> SESSIONS;
                case "trace" -> TRACE;
                default ->
                    throw new IllegalArgumentException(
                            "--workload " + s + ": expected grid, groups, sessions or trace");
            };
        }
    }

    /**
     * Rounds when the command line names none: at 5, a 2-core cloud VM left the groups workload's throughput interval 7
     * % wide on each side, too wide to decide a gap of 5-8 % against a 15 % threshold.
     */
    public static final int DEFAULT_ROUNDS = 8;

    public static PrefixWorkload defaults(Kind kind, int maxPositions, int rounds) {
        if (kind == Kind.GROUPS)
            return new PrefixWorkload(kind, 4, 8, Math.min(512, maxPositions / 2 - 32), 32, 1, 0, rounds, false);
        // the trace's prompts reach 5 blocks: a block of maxPositions / 16 tokens keeps them within a third
        if (kind == Kind.TRACE) return new PrefixWorkload(kind, 0, 1, maxPositions / 16, 32, 1, 0, rounds, false);
        int prompt = Math.min(128, maxPositions / 8);
        return new PrefixWorkload(kind, 4, 1, prompt, 32, 8, Math.min(32, maxPositions / 32), rounds, false);
    }

    /** This workload with its answers streamed token by token, or whole. */
    public PrefixWorkload withStream(boolean on) {
        return new PrefixWorkload(kind, units, groupSize, promptLen, outputLen, turns, toolTokens, rounds, on);
    }

    /** Requests in flight: a whole group at once, or every session (a trace sends at its own times). */
    int concurrency() {
        return kind == Kind.GROUPS ? groupSize : Math.max(1, units);
    }

    /** The longest prompt a session reaches. */
    int longestPrompt() {
        return promptLen + (turns - 1) * (outputLen + toolTokens);
    }
}
