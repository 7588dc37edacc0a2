"""The container platform: clusters, nodes, eggs, containers, jobs and the agent gateway."""
