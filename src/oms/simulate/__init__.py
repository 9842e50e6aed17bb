"""Simulators of the partners Item OMS talks to, for trying it end to end without them.

`wms` plays a warehouse's WMS: it takes released fulfillment orders (signed webhooks, or
by polling) and answers over the REST API as a real one would: ack, picking, packed,
shipments with UPS tracking numbers, now and then a short pick or a rejection. It speaks
to Item OMS only over HTTP, as docs/WMS.md describes, and imports no business package.
"""
