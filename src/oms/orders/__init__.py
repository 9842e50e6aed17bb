"""Sales orders (workflow A): intake from every channel, validation, holds, edits,
cancellations, allocation on intake, and the order's timeline.

The order's status is never set by hand: `status.derive` computes it from the
quantity buckets of its lines (ordered, allocated, backordered, released,
shipped, delivered, cancelled, returned). Holds are records beside the status.
"""
