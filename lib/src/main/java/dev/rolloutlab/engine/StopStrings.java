package dev.rolloutlab.engine;

import java.util.List;

/** Where a stop string first appears in generated text; only the tail a new token can complete is searched. */
final class StopStrings {
    private StopStrings() {}

    static int maxLength(List<String> stops) {
        int m = 0;
        for (String s : stops) m = Math.max(m, s.length());
        return m;
    }

    /** The earliest index of any stop string at or after {@code from}, or -1. */
    static int indexIn(StringBuilder text, List<String> stops, int from) {
        int best = -1;
        for (String st : stops) {
            if (st.isEmpty()) continue;
            int i = text.indexOf(st, from);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }
}
