export * from './admin-app.ts';
