"""Prometheus metrics: the instruments the service counts with, and `/metrics`."""
