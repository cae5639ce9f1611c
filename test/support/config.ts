import { expect } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';

/** The problems a config document (and its environment) is refused with; [] when it is accepted. */
export function configProblems(doc: unknown, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(doc, env);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
}
