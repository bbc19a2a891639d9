"""Signals of the write queue, for apps that keep something in step with MiniCRM."""

from django.dispatch import Signal

# Sent with `write` once MiniCRM has applied it (its `result` holds what MiniCRM answered).
write_done = Signal()
