/** The provider's redirect carries code, state (or error, error_description) and what else it adds (iss, scope, authuser…). */
export const CallbackQuery = { type: 'object', maxProperties: 20, additionalProperties: { type: 'string', maxLength: 4096 } };
