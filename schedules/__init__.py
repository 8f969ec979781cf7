"""The weekly cadence: steps that decide what is due, and the ledger that sends it exactly once."""
