"""Thin adapters to the outside world (NVML, processes, HTTP, files), each with a fake twin."""
