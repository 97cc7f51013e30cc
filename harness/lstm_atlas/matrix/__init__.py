"""Results across environments: the results file, merge, diff, report and catalogue."""
