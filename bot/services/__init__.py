"""Use cases: each takes a session (the caller owns the transaction), the playbook and "now"."""
