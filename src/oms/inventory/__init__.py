"""Inventory: the movement ledger, balances, reservations and channel availability.

The ledger is the truth; a balance per (item, warehouse) is its running sum,
updated in the same transaction as each ledger row, and `oms inventory verify`
proves the two agree. A reservation is one conditional UPDATE (it succeeds only
while on hand − reserved − safety stock covers it) plus its ledger row, so stock
never oversells, on SQLite and PostgreSQL alike.
"""
