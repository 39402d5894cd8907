/**
 * A model loaded or synthesised from a checkpoint: its versioned weights and their updates (full and sparse deltas),
 * the KV cache and the prefix cache that shares it across requests, the transformer's forward pass, or a
 * {@link dev.rolloutlab.engine.model.StepClock}'s time in its place when the engine is simulated.
 */
package dev.rolloutlab.engine.model;
