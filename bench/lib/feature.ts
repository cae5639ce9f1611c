/**
 * Whether a feature's module is in this build, by importing it. Items 6-8 measure features that were still being
 * finished when the benchmarks were written: until their benchmark exists they report "not measured", never a number.
 */

export type FeatureProbe = { present: true; module: string } | { present: false; why: string };

/** The first candidate that imports; a module that exists but fails to load is reported as such. */
export async function probeFeature(candidates: URL[]): Promise<FeatureProbe> {
  for (const url of candidates) {
    try {
      await import(url.href);
      return { present: true, module: url.pathname.replace(/^.*?\/(src\/)/, '$1') };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(url.pathname)) continue;
      return { present: false, why: `module ${url.pathname.replace(/^.*?\/(src\/)/, '$1')} failed to load: ${(err as Error).message.split('\n')[0]}` };
    }
  }
  return { present: false, why: 'feature not present' };
}
