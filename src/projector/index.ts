export * from './projector-port.js';
export * from './read-model.js';
export * from './session-row.js';
export { openReadModel, type SqliteReadModel } from './sqlite-read-model.js';
export type { AppliedBatch, Projection } from './projection.js';
export { createProjector, CHECKPOINT_NAME, type ProjectorOptions } from './projector.js';
export { projectAll, projectEvents } from './project-events.js';
export { readModelSchema } from './read-model-schema.js';
