package dev.rolloutlab.cluster;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rolloutlab.util.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The hosts a launch runs on, from an inventory file (YAML or JSON), from {@code --hosts}, or from the JSON of
 * {@code gcloud compute tpus tpu-vm describe --format=json}. Errors name the file, line and field.
 */
public record Inventory(List<Host> hosts) {

    /** One SSH target. {@code address} is what SSH and health checks connect to. */
    public record Host(
            String name,
            String address,
            String user,
            int port,
            String identityFile,
            String jumpHost,
            String workdir,
            Map<String, String> env) {
        public String sshTarget() {
            return (user == null || user.isEmpty() ? "" : user + "@") + address;
        }
    }

    /** {@code [user@]host[:port]} entries, comma-separated. */
    public static Inventory ofHosts(List<String> specs, String user, String identityFile) {
        List<Host> hosts = new ArrayList<>();
        for (String s : specs) {
            String u = user, h = s.trim();
            int at = h.indexOf('@');
            if (at >= 0) {
                u = h.substring(0, at);
                h = h.substring(at + 1);
            }
            int port = 22;
            int colon = h.lastIndexOf(':');
            if (colon > 0 && h.indexOf(':') == colon) {
                try {
                    port = Integer.parseInt(h.substring(colon + 1));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--hosts " + s + ": port is not a number");
                }
                h = h.substring(0, colon);
            }
            if (h.isEmpty()) throw new IllegalArgumentException("--hosts: empty host in '" + s + "'");
            hosts.add(new Host(h, h, u, port, identityFile, null, null, Map.of()));
        }
        return new Inventory(hosts);
    }

    public static Inventory read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("inventory " + file + ": cannot read: " + e.getMessage());
        }
        ObjectMapper m = file.toString().endsWith(".json") ? Json.MAPPER : Json.YAML;
        JsonNode root;
        try {
            root = m.readTree(text);
        } catch (JsonProcessingException e) {
            JsonLocation l = e.getLocation();
            throw new IllegalArgumentException(
                    "inventory " + file + (l != null ? " line " + l.getLineNr() + " column " + l.getColumnNr() : "")
                            + ": " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject())
            throw new IllegalArgumentException("inventory " + file + ": expected a mapping with 'hosts'");
        if (root.has("networkEndpoints")) return fromGcloud(root, "root", 22, null);
        JsonNode defaults = root.path("defaults");
        JsonNode hs = root.get("hosts");
        if (hs == null || !hs.isArray() || hs.isEmpty())
            throw new IllegalArgumentException("inventory " + file + ": field 'hosts' must be a non-empty list");
        List<Host> hosts = new ArrayList<>();
        for (int i = 0; i < hs.size(); i++) {
            JsonNode h = hs.get(i);
            String where = "inventory " + file + ": hosts[" + i + "]";
            if (h.isTextual()) {
                hosts.addAll(ofHosts(
                                List.of(h.asText()),
                                text(defaults, "user", null),
                                text(defaults, "identity_file", null))
                        .hosts());
                continue;
            }
            if (!h.isObject()) throw new IllegalArgumentException(where + ": expected a mapping or 'user@host:port'");
            String address = text(h, "address", null);
            if (address == null || address.isBlank())
                throw new IllegalArgumentException(where + ": field 'address' is required");
            JsonNode portNode = h.has("port") ? h.get("port") : defaults.get("port");
            int port = 22;
            if (portNode != null && !portNode.isNull()) {
                if (!portNode.canConvertToInt()
                        || portNode.isTextual() && !portNode.asText().matches("\\d+")) {
                    throw new IllegalArgumentException(where + ": field 'port' must be a number, got " + portNode);
                }
                port = portNode.asInt();
            }
            Map<String, String> env = new LinkedHashMap<>();
            defaults.path("env")
                    .properties()
                    .forEach(e -> env.put(e.getKey(), e.getValue().asText()));
            h.path("env")
                    .properties()
                    .forEach(e -> env.put(e.getKey(), e.getValue().asText()));
            hosts.add(new Host(
                    text(h, "name", address),
                    address,
                    text(h, "user", text(defaults, "user", null)),
                    port,
                    text(h, "identity_file", text(defaults, "identity_file", null)),
                    text(h, "jump_host", text(defaults, "jump_host", null)),
                    text(h, "workdir", text(defaults, "workdir", null)),
                    env));
        }
        return new Inventory(hosts);
    }

    /**
     * Every worker of a TPU VM from {@code tpu-vm describe --format=json}: internal IPs, or external with
     * {@code external}.
     */
    public static Inventory fromGcloud(JsonNode describe, String user, int port, String identityFile) {
        return fromGcloud(describe, user, port, identityFile, false);
    }

    public static Inventory fromGcloud(
            JsonNode describe, String user, int port, String identityFile, boolean external) {
        JsonNode eps = describe.path("networkEndpoints");
        if (!eps.isArray() || eps.isEmpty()) throw new IllegalArgumentException("gcloud JSON has no networkEndpoints");
        String name = describe.path("name").asText("tpu");
        name = name.substring(name.lastIndexOf('/') + 1);
        List<Host> hosts = new ArrayList<>();
        for (int i = 0; i < eps.size(); i++) {
            JsonNode e = eps.get(i);
            String ip = external
                    ? e.path("accessConfig").path("externalIp").asText("")
                    : e.path("ipAddress").asText("");
            if (ip.isEmpty())
                throw new IllegalArgumentException("gcloud JSON: networkEndpoints[" + i + "] has no "
                        + (external ? "accessConfig.externalIp" : "ipAddress"));
            hosts.add(new Host(name + "-w" + i, ip, user, port, identityFile, null, null, Map.of()));
        }
        return new Inventory(hosts);
    }

    private static String text(JsonNode n, String field, String def) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? def : v.asText();
    }
}
