"""Synthetic conversation data, never used by the live service.

- script.py: scripted conversations as exactly the outbox entries handoff/store.py appends (tests).
- seed.py: a synthetic month written to the SQL log for a fresh install (`make seed`).
"""
