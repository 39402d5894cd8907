/**
 * The load balancer as parts: backend source, routing policies (prefix- and session-keeping ones among them), health
 * checker, relay, admin routes and metrics; may import cluster (the registry client), http1 and util.
 */
package dev.rolloutlab.lb;
