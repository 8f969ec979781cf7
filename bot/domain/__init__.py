"""The pure domain core: stages, gates, BANT, evaluations, org tiers, roll-ups.

Nothing here imports Slack, SQLAlchemy, Jinja or reads the clock: time and ids
come in as arguments, so every rule is tested without I/O.
"""
