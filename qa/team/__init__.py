"""Serving a team: user accounts and their roles, who may do what, and the audit log of changes.
May import only ``qa.team`` itself and ``embeddings`` (where state lives, atomic writes)."""
