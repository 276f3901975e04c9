"""Load test of the production setup (`make loadtest`, docs/operations.md).

`python -m loadtest` creates its own PostgreSQL database, starts `make serve`
on it, seeds several tenants, drives mixed authenticated traffic for a bounded
time while messages are deleted, channels left and one tenant purged midway,
stops the server, and checks the database against what the API acknowledged.
"""
