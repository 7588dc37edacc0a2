"""Alerts: rules on stored metrics, their states and history, notifications by e-mail and webhook, silences."""
