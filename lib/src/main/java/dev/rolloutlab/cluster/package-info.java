/**
 * Operating a fleet: inventories, SSH launch, launch templates, the worker agent, the commander and its registry, fleet
 * weight updates; may import engine (weight formats), openai, http1, process and util.
 */
package dev.rolloutlab.cluster;
