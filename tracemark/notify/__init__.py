"""Messages that leave the system: the outbox, e-mail and signed webhooks."""
