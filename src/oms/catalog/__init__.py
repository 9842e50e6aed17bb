"""Master data: items, warehouses, channels, suppliers and customers.

Every record is validated field by field on the way in (GTIN check digits,
ISO country and currency codes, postcode forms, E.164 phone numbers), carries a
`version` that is its ETag, and is deactivated rather than deleted, so that
history (orders, movements, the audit trail) keeps pointing at it.
"""
