"""Clusters: groups of nodes a container can be placed on."""
