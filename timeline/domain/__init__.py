"""The event model's rules: fields, the Event <-> Feature mapping, every write, accounts, audit.

Views and commands call in here; nothing here imports the web layer.
"""
