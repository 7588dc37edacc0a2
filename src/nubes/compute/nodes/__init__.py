"""Nodes: Docker hosts running `nubes agent`, their registration, allocations (ip:port), and placement."""
