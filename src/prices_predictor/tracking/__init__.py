"""MLflow: tracking set-up, the pyfunc model, the registry and its aliases."""
