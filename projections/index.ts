export * from './evolve.js';
export * from './fold.js';
export * from './session-state.js';
