"""Routing: which warehouse serves which order line, and why.

Routing plans *demand*, not orders (ARCHITECTURE.md rule 1): it takes lines, a
destination and a channel, and answers with a plan and its trace. The planner
(`planner.py`, greedy, per order) and the optimizer (`optimizer.py`, a
mixed-integer program over a batch) are pure: plain data in, a plan out, no
session. `rules.py` holds the rule sets that steer them.

`service.py` routes one order's lines with a session: the channel's active rule set
(`rule_sets.py`: versions per channel and a default), candidates from the catalog
and stock (`places.py` locates the ship-to), the greedy plan, its reservations, the
plan stored with its trace, and a `planned` fulfillment order per warehouse
(`models.py`). Its SQL is in `repository.py`.
"""
