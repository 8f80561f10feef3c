"""In-app notifications and the e-mail outbox, written in the same transaction as the change."""
