"""Receivers that maintain derived (lifecycle) fields only. See docs/lifecycle.md."""
