package dev.rolloutlab.openai;

/** How a failed exchange is written down: exact for records ({@link #describe}), plain for people ({@link #plain}). */
public final class TransportError {
    private TransportError() {}

    /** A transport error as a person reads it: "connection refused", not the exception's class. */
    public static String plain(String error) {
        if (error.startsWith("ConnectException")) return "connection refused";
        if (error.startsWith("SocketTimeoutException") || error.startsWith("InterruptedIOException: timeout"))
            return "timed out";
        if (error.startsWith("UnknownHostException"))
            return "unknown host" + error.substring(error.indexOf(':') < 0 ? error.length() : error.indexOf(':') + 1);
        return error.replaceFirst("^[A-Za-z.]*Exception: ", "");
    }

    public static String describe(Throwable e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }
}
