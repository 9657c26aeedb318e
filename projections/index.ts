export * from './as-of.js';
export * from './evolve.js';
export * from './fold.js';
export * from './session-state.js';
export * from './status-changes.js';
export * from './outcome.js';
