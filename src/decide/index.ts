export * from './commands.js';
export * from './decide.js';
export * from './decider.js';
export * from './errors.js';
