"""Tracemark core: configuration, database, models and the operations on them.

Services here take a SQLAlchemy session and know nothing of Flask; the web faces
(``portal``, ``admin``, the API) call them.
"""
