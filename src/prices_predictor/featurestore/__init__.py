"""The feature store adapter (Feast): views generated from a model's data spec, online reads
by house id for serving, point-in-time training frames. ``feast`` is imported only inside
these modules' functions: a server or CLI that does not use the store never pays for it."""
