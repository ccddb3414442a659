"""Assistant activity: every MCP tool call through a connection (never its arguments)."""
