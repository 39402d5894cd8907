/**
 * Everything simulated: the timing model of a simulated engine and the cores its engines share (the engine's
 * {@code StepClock}), profiles fitted from real servers (and checked by simulating the host until it reproduces them),
 * simulated hosts (network namespaces with shaped links), a fleet for {@code compare --fleet}, and the host-count
 * sweeps (throughput and weights, or GRPO groups per way of routing); may import bench, compare, engine, lb, openai,
 * process, results and util.
 */
package dev.rolloutlab.sim;
