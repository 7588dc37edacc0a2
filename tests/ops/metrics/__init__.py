"""Tests of ops/metrics."""
