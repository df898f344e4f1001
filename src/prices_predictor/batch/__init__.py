"""Offline scoring of files of houses (``prices-predictor predict``)."""
