"""Framework-free geographic core: geometry and date parsing and validation.

Nothing here imports Flask, so every rule can be tested, and reused by the CLI and later
importers, without an app.
"""
