"""Fulfillment: release to the WMS, WMS messages, shipments, tracking, returns, SLA."""
