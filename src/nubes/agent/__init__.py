"""The node agent: drives the local Docker Engine for the server, over one outbound WebSocket."""
