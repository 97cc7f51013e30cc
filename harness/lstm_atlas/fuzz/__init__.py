"""The Hypothesis error map: strategies, the worker and its handle (supervisor), driver, progress bar,
oracle, map and candidates."""
