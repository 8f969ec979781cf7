"""Deals in Slack: the ``/deal`` command, its buttons and its forms."""
