export * from './random.ts';
export * from './funnel-model.ts';
export * from './seeder.ts';
