"""Signals of the write queue, for apps that keep something in step with MiniCRM."""

from django.dispatch import Signal

# Sent with `write` once MiniCRM has applied it (its `result` holds what MiniCRM answered),
# inside the transaction that marks it done. A receiver runs its database work in a savepoint
# of its own (`transaction.atomic()`) and catches its errors: the write landed whatever a
# receiver does, and a failure must not undo its done state (it would be sent again).
write_done = Signal()
