/**
 * Reading a results folder: Tablesaw tables, XChart plots, REPORT.md and the notebook helpers; it runs no experiment;
 * may import bench and util.
 */
package dev.rolloutlab.report;
