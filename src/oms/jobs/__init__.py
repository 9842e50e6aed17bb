"""The worker: the outbox relay and scheduled jobs, run by `oms worker` or inside `oms serve`."""
