package dev.rolloutlab.results;

/** SLOs for goodput: a request counts when its TTFT and TPOT are both within the limits (NaN = no limit). */
public record Slo(double ttftMs, double tpotMs) {
    public static final Slo NONE = new Slo(Double.NaN, Double.NaN);

    public static Slo parse(String spec) {
        double ttft = Double.NaN, tpot = Double.NaN;
        for (String part : spec.split(",")) {
            String[] kv = part.split(":");
            if (kv.length != 2) throw new IllegalArgumentException("--goodput " + spec + ": expected ttft:MS,tpot:MS");
            double v;
            try {
                v = Double.parseDouble(kv[1].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--goodput " + spec + ": '" + kv[1]
                        + "' is not a number of milliseconds (e.g. ttft:500,tpot:50)");
            }
            if (!(v > 0) || Double.isInfinite(v))
                throw new IllegalArgumentException(
                        "--goodput " + spec + ": " + kv[0] + " must be a positive number of ms");
            switch (kv[0].trim()) {
                case "ttft" -> ttft = v;
                case "tpot" -> tpot = v;
                default ->
                    throw new IllegalArgumentException(
                            "--goodput " + spec + ": unknown metric " + kv[0] + " (ttft or tpot)");
            }
        }
        return new Slo(ttft, tpot);
    }

    boolean met(RequestRecord r) {
        return (Double.isNaN(ttftMs) || r.ttftMs() <= ttftMs)
                && (Double.isNaN(tpotMs) || Double.isNaN(r.tpotMs()) || r.tpotMs() <= tpotMs);
    }
}
