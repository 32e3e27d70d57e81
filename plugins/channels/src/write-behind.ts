// The SDK's write-behind helper. channel-store.ts imports it from here until it imports `plinth/sdk` itself; then this file goes.
export { WriteBehind } from 'plinth/sdk';
