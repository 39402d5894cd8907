/**
 * A small blocking HTTP/1.1 codec and client connection pool for the two hot paths that are themselves under test:
 * the load generator's completion requests and the load balancer's relay. Through OkHttp and Javalin these cost
 * several hundred µs of CPU per request on this machine, through this about 25–50 (docs/benchmarks.md).
 * Control-plane calls use OkHttp ({@code openai}); {@code serve} uses Javalin.
 */
package dev.rolloutlab.http1;
