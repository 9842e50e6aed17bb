"""Who may do what: users, API keys, roles and the permission matrix.

A principal (a user or an API key) carries roles and, optionally, a scope of
channels and/or warehouses; a scoped principal sees and changes only those.
`permissions.MATRIX` is the whole role × permission table and its documentation.
"""
