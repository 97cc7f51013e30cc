"""The pytest adapter: hooks, collection, items, the results recorder and the result cache."""
