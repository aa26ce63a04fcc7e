"""Helpers for tests and local development (never imported by the engine at run time)."""

from aiguillage.testing.broker import TansuBroker, find_tansu_binary, free_port

__all__ = ["TansuBroker", "find_tansu_binary", "free_port"]
