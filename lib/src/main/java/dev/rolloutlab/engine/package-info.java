/**
 * The reference rollout engine: the {@code Engine} API, the continuous-batching scheduler, admission, sampling and the
 * in-memory weight swap, over a model ({@code engine.model}), its tokenizer ({@code engine.tokenizer}), its checkpoint
 * files ({@code engine.checkpoint}) and compute kernels ({@code engine.kernels}), each layer using only those after it.
 * The engine imports nothing else of ours and knows nothing of HTTP or of how a simulated step's time is modelled.
 */
package dev.rolloutlab.engine;
