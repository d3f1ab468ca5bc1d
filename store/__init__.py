"""The ledger (台帳): the source of truth of every document's state and data."""

from store.ledger import DocumentRow, Ledger

__all__ = ["DocumentRow", "Ledger"]
