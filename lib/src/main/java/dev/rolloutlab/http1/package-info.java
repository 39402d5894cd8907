/**
 * A small blocking HTTP/1.1 codec and client connection pool for the two hot paths that are themselves under test:
 * the load generator's requests and the load balancer's relay. Control-plane calls use OkHttp ({@code openai}).
 */
package dev.rolloutlab.http1;
