package dev.rolloutlab.cluster;

import java.util.regex.Pattern;

/**
 * One placeholder of a {@link LaunchTemplate}: its default, its type and check, and whether a start request may set it.
 * Executables, classpaths, bind hosts and keys are never request-settable: only the operator's configuration (template
 * file, agent flags, {@code launch --set}) chooses them.
 */
public record TemplateParam(
        String name,
        String defaultValue,
        boolean requestSettable,
        Type type,
        long min,
        long max,
        Pattern pattern,
        String flag) {
    /**
     * A value's type: text checked by a pattern, an integer in a range, or a switch that adds {@code flag} when true.
     */
    public enum Type {
        STRING,
        INT,
        FLAG
    }

    /** Values of any parameter: no spaces, quotes or shell syntax, whatever the transport. */
    static final Pattern SAFE_VALUE = Pattern.compile("[A-Za-z0-9._:/@+=,%-]{0,512}");

    public TemplateParam {
        if (type == Type.FLAG && (flag == null || flag.isBlank()))
            throw new IllegalArgumentException("parameter " + name + ": a flag needs its flag text");
        if (pattern == null) pattern = SAFE_VALUE;
    }

    /** Set by the operator only. */
    static TemplateParam operator(String name, String defaultValue) {
        return new TemplateParam(name, defaultValue, false, Type.STRING, 0, 0, SAFE_VALUE, null);
    }

    static TemplateParam text(String name, String defaultValue, String pattern) {
        return new TemplateParam(name, defaultValue, true, Type.STRING, 0, 0, Pattern.compile(pattern), null);
    }

    static TemplateParam integer(String name, long defaultValue, long min, long max) {
        return new TemplateParam(name, String.valueOf(defaultValue), true, Type.INT, min, max, SAFE_VALUE, null);
    }

    /** An optional integer: empty by default (its flag is then left out). */
    static TemplateParam optionalInt(String name, long min, long max) {
        return new TemplateParam(name, "", true, Type.INT, min, max, SAFE_VALUE, null);
    }

    static TemplateParam flag(String name, String flag) {
        return new TemplateParam(name, "false", true, Type.FLAG, 0, 0, SAFE_VALUE, flag);
    }

    /** Checks a value and returns what it expands to; throws naming the parameter and the expected form. */
    String expand(String value) {
        String where = "parameter " + name + "=" + (value.length() > 64 ? value.substring(0, 61) + "..." : value);
        switch (type) {
            case INT -> {
                if (value.isEmpty() && defaultValue.isEmpty()) return "";
                long v;
                try {
                    v = Long.parseLong(value.trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(where + ": expected an integer in [" + min + ", " + max + "]");
                }
                if (v < min || v > max)
                    throw new IllegalArgumentException(where + ": expected an integer in [" + min + ", " + max + "]");
                return Long.toString(v);
            }
            case FLAG -> {
                if (value.equals("true") || value.equals(flag)) return flag;
                if (value.equals("false") || value.isEmpty()) return "";
                throw new IllegalArgumentException(where + ": expected true or false");
            }
            default -> {
                if (!SAFE_VALUE.matcher(value).matches()
                        || !pattern.matcher(value).matches()) {
                    throw new IllegalArgumentException(where
                            + ": has characters or a form this parameter does not allow ("
                            + (pattern == SAFE_VALUE ? "letters, digits and ._:/@+=,%-" : pattern.pattern()) + ")");
                }
                return value;
            }
        }
    }
}
