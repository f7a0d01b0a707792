#!/usr/bin/env node
// Entry point for `npx rollouts`: npm puts the project's Node 24 first on PATH, and tsx runs the
// TypeScript CLI without a build step.
import { register } from 'tsx/esm/api';

register();
await import('./rollouts.ts');
