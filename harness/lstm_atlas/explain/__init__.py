"""From a pasted error to the known failure mode, its cause and a verified fix."""
