"""The prediction service (FastAPI): app factory, model holder, routers, observability."""
