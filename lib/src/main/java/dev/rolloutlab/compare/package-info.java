/**
 * One workload through every topology (inproc, http1, httpN, lb) and the weight-freshness experiment; may import bench,
 * cluster (fleet weight updates), engine, openai, process and util.
 */
package dev.rolloutlab.compare;
