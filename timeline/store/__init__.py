"""Storage: the engine, the models, filters translated to SQL, counts, caches and maintenance.

SQLite and PostgreSQL/PostGIS sit behind the same functions; nothing here imports the domain.
"""
