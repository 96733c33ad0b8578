"""Event bus: envelope, transactional outbox, JetStream relay and durable consumers."""
