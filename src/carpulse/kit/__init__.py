"""Domain-free building blocks: nothing here imports a domain package."""
