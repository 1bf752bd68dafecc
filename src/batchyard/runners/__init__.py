"""Runners: one ECS-style task on one backend (local processes, Docker, AWS ECS).

See ``base.py`` for the contract.
"""
