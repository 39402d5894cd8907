/**
 * One workload through every topology (inproc, http1, httpN, lb) and the weight-freshness experiment; may import bench, engine, openai, process and util.
 */
package dev.rolloutlab.compare;
