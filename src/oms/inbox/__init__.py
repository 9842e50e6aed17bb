"""The inbox: every inbound payload, stored raw before anything reads it.

An entry point (an HTTP request, a channel connector, an EDI file) calls
`store` in a transaction of its own and commits, then processes the payload
and records the outcome with `record_outcome`. A payload that failed keeps its
errors and can be replayed after a fix; nothing that arrived is ever lost.
"""
