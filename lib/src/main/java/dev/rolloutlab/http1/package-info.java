/**
 * A small blocking HTTP/1.1 codec and client connection pool: the load balancer's relay, which must cost little CPU
 * next to the backends it fronts (Javalin in + OkHttp out cost about 500 µs of CPU per proxied request here; this
 * costs about 60, see docs/benchmarks.md). Everything else speaks HTTP through Javalin and OkHttp.
 */
package dev.rolloutlab.http1;
