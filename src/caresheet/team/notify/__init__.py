"""Notifications to the care team through a durable outbox.

- ``settings``: where messages go (mail server, webhook), read once when a face starts.
- ``outbox``: queue a message in the escalation's own transaction; claim, lease and deliver it.
- ``senders``: one small transport per channel (email, webhook) behind one interface.
- ``worker``: the delivery loop, run by ``caresheet worker`` or beside ``caresheet serve``.
"""
