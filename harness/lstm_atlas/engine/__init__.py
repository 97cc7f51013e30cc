"""Running one case variant on real TensorFlow: build, execute, observe, match."""
