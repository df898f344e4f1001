"""Batch jobs on a Redis queue (rq): a file of houses is submitted, a worker prices it with the
same code as ``prices-predictor predict``, the client comes back for the result.

- ``files``: where uploads and results live (a directory or an fsspec URL);
- ``intake``: what a submitted file must look like before it is accepted;
- ``queue``: submit, status, cancel, delete and queue figures, over Redis;
- ``task``: what a worker runs for one job;
- ``worker``: the worker process (no fork: the model is loaded once).
"""
