const currency = { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217 code, e.g. EUR' } as const;

export const ConvertInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['from', 'to', 'amount'],
  properties: { from: currency, to: currency, amount: { type: 'number', exclusiveMinimum: 0, maximum: 1e12 } },
} as const;

export const ConversionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['from', 'to', 'amount', 'rate', 'result', 'date'],
  properties: {
    from: { type: 'string' }, to: { type: 'string' }, amount: { type: 'number' },
    rate: { type: 'number' }, result: { type: 'number' }, date: { type: 'string' },
  },
} as const;
