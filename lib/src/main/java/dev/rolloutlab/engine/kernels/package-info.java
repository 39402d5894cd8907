/**
 * The engine's compute kernels: dense tensors, weight matrices packed once for the GEMM (float32 or bfloat16), and the
 * matrix, attention, activation and normalisation operations a forward pass is made of, scalar and SIMD (the Vector
 * API), and how they share the machine's cores; no notion of a model, a request or a file.
 */
package dev.rolloutlab.engine.kernels;
