export * from './errors';
export * from './refs';
export * from './plugin';
export * from './http';
export * from './services';
export * from './ids';
export type * from './types';
export * from './storage';
export * from './lazy';
