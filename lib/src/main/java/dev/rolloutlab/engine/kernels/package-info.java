/**
 * The engine's compute kernels: dense tensors and the matrix, attention and normalisation operations a forward pass is
 * made of, scalar and SIMD (the Vector API); no notion of a model, a request or a file.
 */
package dev.rolloutlab.engine.kernels;
