export * from './migrator.ts';
export * from './api-keys.ts';
export * from './projects.queries.ts';
export * from './pg-errors.ts';
export * from './deletions.ts';
export * from './pipeline-drain.ts';
export * from './dead-letter-removal.ts';
