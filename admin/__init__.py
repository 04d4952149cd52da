"""Brand staff application (catalog, issuance, stories, holds): not built yet.

The package exists so the layout is fixed from the start; its blueprint is registered by
``tracemark.app.create_app`` once it has routes.
"""
