package dev.rolloutlab.bench;

import dev.rolloutlab.results.RequestRecord;
import java.util.ArrayList;
import java.util.List;

/**
 * Stops a leg that cannot succeed: when its first {@link #K} requests all failed the same way (same status, same
 * message), it says why in one line with the fix, instead of sending the rest of the leg to the same error.
 */
final class FailFast {
    static final int K = 8;
    /** The line of every fail-fast reason, so callers can tell it from other stops. */
    static final String PREFIX = "stopped early: ";

    private final List<RequestRecord> first = new ArrayList<>(K);
    private boolean decided;

    /** Returns the reason to stop once the first K requests all failed alike, else null. */
    synchronized String observe(RequestRecord r, String path) {
        if (decided) return null;
        first.add(r);
        if (r.ok()) {
            decided = true;
            return null;
        }
        if (first.size() < K) return null;
        decided = true;
        RequestRecord a = first.get(0);
        for (RequestRecord x : first) {
            if (x.status() != a.status() || !String.valueOf(x.error()).equals(String.valueOf(a.error()))) return null;
        }
        return PREFIX + reason(a, path);
    }

    /** "target answers 404 on /v1/completions: {…}; use --endpoint chat", and the like. */
    static String reason(RequestRecord r, String path) {
        String msg = String.valueOf(r.error());
        String said = msg.length() > 160 ? msg.substring(0, 160) + "…" : msg;
        if (r.status() < 0) return "cannot reach the target (" + said + "); check the URL and that the server is up";
        String fix = switch (r.status()) {
            case 404, 405 ->
                path.endsWith("/chat/completions") ? "use --endpoint completions" : "use --endpoint chat (or auto)";
            case 401, 403 -> "pass the server's key with --api-key";
            case 400 -> "the server refused the request; check --model and the sampling flags";
            default -> "see the server's log";
        };
        return "target answers " + r.status() + " on " + path + ": " + said.replaceFirst("^HTTP \\d+: ", "") + "; "
                + fix;
    }
}
