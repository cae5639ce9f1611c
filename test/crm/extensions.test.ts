import { describe, expect, it } from 'vitest';
import { ExtensionResolver } from '../../src/crm/extensions.js';

/** Which extension rings for a responsible user. */

describe('ExtensionResolver', () => {
  const directory: Record<string, number> = { '101': 11, '102': 12, '20013': 13 };
  const resolver = (overrides: Record<string, number> = { '20013': 13, '20099': 13 }) =>
    new ExtensionResolver({
      overrides: () => overrides,
      userIdFor: (ext) => directory[ext],
      extensionFor: (id) => Object.entries(directory).find(([, u]) => u === id)?.[0],
    });

  it("prefers users.extensions, the same one every time, over the portal's UF_PHONE_INNER", () => {
    expect(resolver().extensionOf(13, '103')).toBe('20013');
  });

  it("uses the responsible's UF_PHONE_INNER from the search, unless the user map gives it to someone else", () => {
    expect(resolver().extensionOf(11, '101')).toBe('101');
    expect(resolver().extensionOf(14, '104')).toBe('104');
    // 102 belongs to user 12 here: user 14 does not get it, and has no extension of their own.
    expect(resolver().extensionOf(14, '102')).toBeUndefined();
  });

  it("falls back to the directory's reverse map when the search gave no extension", () => {
    expect(resolver({}).extensionOf(12)).toBe('102');
    expect(resolver({}).extensionOf(15)).toBeUndefined();
  });
});
