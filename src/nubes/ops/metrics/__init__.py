"""Metrics: host, node, container and application time series, stored downsampled, and their Prometheus exposition."""
