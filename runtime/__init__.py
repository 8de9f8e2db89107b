"""The end-user web app and the REST API (Flask blueprints over the engine's services)."""
