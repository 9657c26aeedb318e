export * from './codec.js';
export * from './envelope.js';
export * from './errors.js';
export * from './metadata.js';
export * from './schemas.js';
export * from './stream.js';
export * from './upcasters.js';
export * from './derived-id.js';
