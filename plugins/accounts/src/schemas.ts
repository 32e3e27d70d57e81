import { SCOPE_NAME } from 'plinth/sdk';

export const LoginBody = {
  type: 'object', required: ['email', 'password'], additionalProperties: false,
  properties: { email: { type: 'string', minLength: 3, maxLength: 320 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
};

export const UserIdParams = { type: 'object', properties: { id: { type: 'string', pattern: '^usr_[a-z2-7]{1,40}$' } } };

export const NewUserBody = {
  type: 'object', required: ['email'], additionalProperties: false, properties: {
    email: { type: 'string', format: 'email', maxLength: 320 }, password: { type: 'string', minLength: 8, maxLength: 1024 },
    name: { type: 'string', maxLength: 200 }, role: { enum: ['admin', 'user'], default: 'user' },
  },
};

export const UserPatchBody = {
  type: 'object', additionalProperties: false, minProperties: 1, properties: {
    role: { enum: ['admin', 'user'] }, disabled: { type: 'boolean' }, name: { type: ['string', 'null'], maxLength: 200 },
  },
};

export const NewTokenBody = {
  type: 'object', additionalProperties: false, properties: {
    name: { type: 'string', maxLength: 200 }, expiresInDays: { type: 'integer', minimum: 1, maximum: 3650 },
    scopes: { type: 'array', minItems: 1, maxItems: 20, uniqueItems: true, items: { type: 'string', pattern: SCOPE_NAME.source } },
  },
};
