/**
 * A small blocking HTTP/1.1 codec and client connection pool for the two hot paths that are themselves under test: the
 * load generator's completion requests (about 100 us of CPU per call through OkHttp here, 26 through this) and the load
 * balancer's relay (503 us per proxied request through Javalin and OkHttp, 50-75 through this); see docs/benchmarks.md.
 * {@link dev.rolloutlab.http1.Fetch} carries the balancer's probes and registry reads over the same codec. Imports
 * nothing of ours.
 */
package dev.rolloutlab.http1;
