package dev.rolloutlab.util;

import java.util.regex.Pattern;

/**
 * The one check of a backend address as registries and balancers accept it: {@code host:port} or
 * {@code http(s)://host:port}.
 */
public final class HostPort {
    private static final Pattern HOST =
            Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?|\\[[0-9A-Fa-f:.]{2,45}]");

    private HostPort() {}

    /**
     * Returns {@code spec} when it is a valid backend address; otherwise throws with what is wrong and the expected
     * form.
     */
    public static String check(String spec) {
        if (spec == null || spec.isEmpty())
            throw new IllegalArgumentException("empty backend address; expected host:port");
        String s =
                spec.startsWith("http://") ? spec.substring(7) : spec.startsWith("https://") ? spec.substring(8) : spec;
        if (s.endsWith("/")) s = s.substring(0, s.length() - 1);
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || s.length() > 300)
            throw new IllegalArgumentException("'" + abbreviate(spec) + "' is not host:port");
        String host = s.substring(0, colon), port = s.substring(colon + 1);
        if (!HOST.matcher(host).matches())
            throw new IllegalArgumentException(
                    "'" + abbreviate(spec) + "': '" + abbreviate(host) + "' is not a host name or address");
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "'" + abbreviate(spec) + "': port '" + abbreviate(port) + "' is not a number");
        }
        if (p < 1 || p > 65535)
            throw new IllegalArgumentException("'" + abbreviate(spec) + "': port " + p + " is outside 1-65535");
        return spec;
    }

    /**
     * A base URL from {@code host:port} ({@code http://} added) or from a URL, which may name a path and, with its
     * scheme, may leave the port to it; without a trailing slash. Checked as {@link #check} checks an address.
     */
    public static String url(String spec) {
        String s = spec == null ? "" : spec.trim();
        boolean scheme = s.startsWith("http://") || s.startsWith("https://");
        String rest = scheme ? s.substring(s.indexOf("//") + 2) : s;
        int slash = rest.indexOf('/');
        String authority = slash < 0 ? rest : rest.substring(0, slash);
        boolean hasPort = authority.lastIndexOf(':') > authority.lastIndexOf(']');
        if (scheme && !hasPort) {
            if (!HOST.matcher(authority).matches())
                throw new IllegalArgumentException("'" + abbreviate(spec) + "' names no valid host");
        } else {
            check(authority);
        }
        String u = scheme ? s : "http://" + s;
        return u.endsWith("/") ? u.substring(0, u.length() - 1) : u;
    }

    /** Whether a bind address keeps a server on this machine. */
    public static boolean isLoopback(String host) {
        return host.equals("127.0.0.1") || host.equals("localhost") || host.equals("::1") || host.startsWith("127.");
    }

    private static String abbreviate(String s) {
        return s.length() <= 64 ? s : s.substring(0, 61) + "...";
    }
}
