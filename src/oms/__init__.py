"""Item OMS: the command center between sales channels, warehouses and suppliers.

The package is laid out by business capability (see ARCHITECTURE.md): `catalog`
holds master data, `auth` principals and permissions, `api` the HTTP surface,
`jobs` the worker. The bottom layer (`config`, `db`, `errors`, `kit`, `audit`,
`outbox`) knows no business.
"""

__version__ = "0.1.0"
