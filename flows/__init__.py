"""Prefect flows: thin orchestration over the stages."""
