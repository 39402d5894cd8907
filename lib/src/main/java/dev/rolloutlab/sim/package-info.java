/**
 * Pod-scale prediction on this machine: timing-model profiles of engines fitted from real servers (and checked by
 * simulating the host until it reproduces them), simulated hosts (network namespaces with shaped links) running
 * simulated engines, and the host-count sweep; may import bench, compare, engine, lb, openai, process and util.
 */
package dev.rolloutlab.sim;
