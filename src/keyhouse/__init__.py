"""Keyhouse: the access layer of a RevOps workspace."""
