"""Feature preprocessing fitted with the model: imputation, encoding, engineered features."""
