import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The page's files, shipped in the package (assets/status/) and read once at start: the daemon serves them itself,
 * with no CDN and no internet (PBX hosts are often offline). Resolved from this module, so it works from src/ (tests,
 * tsx) and from dist/ (the installed package) alike: both sit two levels below the package root.
 */
export interface StatusAssets {
  html: string;
  js: string;
  css: string;
  /** The page shown instead of the state when a token is needed (no state in it). */
  signIn: string;
}

export const ASSET_DIR = fileURLToPath(new URL('../../assets/status/', import.meta.url));

export function loadStatusAssets(dir = ASSET_DIR): StatusAssets {
  const read = (name: string) => readFileSync(`${dir}${name}`, 'utf8');
  return { html: read('status.html'), js: read('status.js'), css: read('status.css'), signIn: read('sign-in.html') };
}
