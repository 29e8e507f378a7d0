"""HTTP gateway (FastAPI): chat for every text channel, health, operator queues."""
