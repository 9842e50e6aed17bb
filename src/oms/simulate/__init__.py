"""Simulators of the partners Item OMS talks to, for trying it end to end without them.

`wms` plays a warehouse's WMS: it takes released fulfillment orders (signed webhooks, or
by polling) and answers over the REST API as a real one would: ack, picking, packed,
shipments with UPS tracking numbers, now and then a short pick or a rejection. It speaks
to Item OMS only over HTTP, as docs/WMS.md describes, and imports no business package.

`carrier` plays a carrier and its tracking provider: it follows shipped packages from
the shipments list to the door (`journey`: label, origin scan, a hub, the destination,
out for delivery, delivered, now and then an exception) with EasyPost tracking webhooks.
`shop` sends new orders on the demo channels. `demo_run` runs them all around the demo
dataset (`oms demo run`, or `oms serve --demo-simulate` as `make run` does); it alone
touches the database, to make the partners' API keys and WMS connections.
"""
