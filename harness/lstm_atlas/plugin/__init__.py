"""The pytest adapter: hooks, collection, items, the results recorder, the claims section, the result cache."""
