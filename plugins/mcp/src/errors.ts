import { defineErrors } from 'plinth/sdk';

/** The mcp plugin's own error codes; docs/errors.md is generated from these and the kernel's. */
export const errorCodes = defineErrors('mcp', {
  PLINTH_ERR_MCP_CALL: { status: 502, message: 'the MCP server failed on the call', hint: 'check the MCP server: its log, its command or URL' },
  PLINTH_ERR_MCP_TOOL: { status: 502, message: 'the MCP tool answered an error', hint: 'the message has the tool\'s answer' },
});
