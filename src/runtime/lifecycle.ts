// The operations on an existing container, one module each (so that each
// command loads only its own); re-exported here for convenience.

export { startContainer } from './start.js';
export { killContainer } from './kill.js';
export { deleteContainer } from './delete.js';
