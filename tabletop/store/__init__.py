"""Persistence: SQLAlchemy tables and the queries the rest of the code uses."""

from .store import Appended, Claimed, Identity, Stale, Store, new_code, normalise_code

__all__ = ["Appended", "Claimed", "Identity", "Stale", "Store", "new_code", "normalise_code"]
