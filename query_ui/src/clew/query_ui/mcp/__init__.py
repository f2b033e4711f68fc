"""clew's MCP server: tools that answer with the JSON API's own JSON, over stdio (`clew mcp`)
or streamable HTTP (`/mcp` on the UI's port). `tools.TOOLS` is the table of tools."""
