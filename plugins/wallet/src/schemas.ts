/** The wallet routes take no input: the wallet is the caller's. */
export const NoQuery = { type: 'object', additionalProperties: false, properties: {} } as const;
