import { afterAll } from 'vitest';
import { removeTempDirs } from './tmp.js';

/** Run before every test file (vitest.config.ts setupFiles): the temp dirs a file made are deleted after it. */
afterAll(removeTempDirs);
