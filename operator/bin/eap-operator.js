#!/usr/bin/env node
// Entry point of the operator image: runs the TypeScript sources with Node's type stripping.
import { main } from '../src/main.ts';

process.exitCode = await main();
