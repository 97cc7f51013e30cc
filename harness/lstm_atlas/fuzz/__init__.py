"""The Hypothesis error map: strategies, worker, driver, oracle, map and candidates."""
