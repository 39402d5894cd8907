/**
 * The reference rollout engine: Hugging Face checkpoints, tokenizer, batched transformer, continuous-batching
 * scheduler, sampling and versioned weights; imports nothing of ours and knows nothing of HTTP or simulation (a
 * simulated engine's step time reaches it through {@link dev.rolloutlab.engine.StepClock}).
 */
package dev.rolloutlab.engine;
