/**
 * The reference rollout engine: Hugging Face checkpoints, tokenizer, batched transformer, continuous-batching scheduler, sampling and versioned weights; imports nothing of ours and knows nothing of HTTP.
 */
package dev.rolloutlab.engine;
