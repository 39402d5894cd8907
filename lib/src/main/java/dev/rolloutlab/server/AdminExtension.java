package dev.rolloutlab.server;

import io.javalin.config.JavalinConfig;
import java.util.Map;

/**
 * Admin routes a feature adds to each port of {@code serve} (the simulation's weight transfer between hosts), served
 * behind the port's admin token like the weight endpoints; a failure thrown as {@link AdminError} answers in their
 * shape.
 */
public interface AdminExtension {
    /** Adds this feature's routes to one port, which they reach through {@code port}. */
    void addRoutes(JavalinConfig cfg, Port port);

    /** What one port offers its extension routes. */
    interface Port {
        /** Installs a simulated engine's received weights as the next version; the answer of the weight endpoints. */
        Map<String, Object> installSimulated(byte[] body, String sha256);

        /** The port's admin token, for the peers it forwards to (hosts of the same simulation share it). */
        String adminToken();

        /** The largest weight body the port accepts ({@code --max-update-bytes}). */
        long maxBytes();
    }
}
