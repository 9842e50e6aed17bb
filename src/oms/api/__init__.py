"""The HTTP surface: the FastAPI app factory, routers and the HTTP conventions.

HTTP lives only here (ARCHITECTURE.md rule 4). Every route declares its
permission with `Depends(require(Permission.X))`; every error leaves as RFC
9457 problem+json with a stable `code`; lists are cursor-paginated.
"""
