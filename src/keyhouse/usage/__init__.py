"""Requests per key and per day, by outcome: counted in memory, written in batches."""
