"""Agents: the protocol, the agent gateway (hub and socket), the console socket and the embedded local agent."""
