package dev.rolloutlab.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;

/** The JDK's HTTP server as the named fake backends use it: on loopback, a free port, a virtual thread a request. */
public final class LoopbackHttpServer {
    private LoopbackHttpServer() {}

    /** A server not yet started, so its caller adds its contexts first. */
    public static HttpServer create(int backlog) {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), backlog);
            server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
