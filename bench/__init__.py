"""Benchmarks against the raw-SQL limit (``make bench``; docs/PERFORMANCE.md).

Not part of the test suite: nothing here asserts a timing. The run exits
non-zero only when a measured path leaves the data wrong (orphans, stale
lifecycle fields, the other tenant touched).
"""
