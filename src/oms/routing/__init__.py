"""Routing: which warehouse serves which order line, and why.

Routing plans *demand*, not orders (ARCHITECTURE.md rule 1): it takes lines, a
destination and a channel, and answers with a plan and its trace. The planner
(`planner.py`, greedy, per order) and the optimizer (`optimizer.py`, a
mixed-integer program over a batch) are pure: plain data in, a plan out, no
session. `rules.py` holds the rule sets that steer them.
"""
