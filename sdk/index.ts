export * from './errors';
export * from './refs';
export * from './plugin';
export * from './http';
export * from './services';
export * from './ids';
export type * from './types';
export { EntitySchema } from 'typeorm';
export * from './lazy';
