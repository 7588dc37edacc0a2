"""A container's files: browse, read and write its volume through the node's agent."""
