/**
 * A value made on first use. Plugins load heavy libraries (protocol SDKs) this way so that
 * they cost nothing at kernel start and nothing at all when the feature is never used.
 * Use it with `require('./module')` (CommonJS), never `import()`: see core/plugins/module-loader.ts.
 */
export function lazy<T>(make: () => T): () => T {
  let made = false;
  let value: T;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value;
  };
}
