/**
 * Reading a results folder: Tablesaw tables, XChart plots, REPORT.md, the timeline (trace.json) and the notebook
 * helpers; it runs no experiment; may import bench, results and util.
 */
package dev.rolloutlab.report;
