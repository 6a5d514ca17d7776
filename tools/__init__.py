"""Developer tooling: the local stack (``python -m tools.stack run``) and seeding."""
