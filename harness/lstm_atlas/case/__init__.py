"""The case format: schema, safe loading, validation, allow-lists, budgets and discovery."""
