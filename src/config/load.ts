import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { configSchema, type Config } from './schema.js';

/** Environment variables that may carry each secret instead of the file (the file may then omit it). */
export const SECRET_ENV = {
  'asterisk.ami.secret': 'B24BRIDGE_AMI_SECRET',
  'asterisk.ari.password': 'B24BRIDGE_ARI_PASSWORD',
  'bitrix.webhookUrl': 'B24BRIDGE_WEBHOOK_URL',
  'bitrix.applicationToken': 'B24BRIDGE_APPLICATION_TOKEN',
  'bitrix.app.clientSecret': 'B24BRIDGE_APP_CLIENT_SECRET',
  'crm.lookupToken': 'B24BRIDGE_LOOKUP_TOKEN',
  'transcripts.apiKey': 'B24BRIDGE_TRANSCRIPTS_API_KEY',
  'http.statusToken': 'B24BRIDGE_STATUS_TOKEN',
} as const;

/** Sections a config may leave out: an environment secret never creates them. */
const OPTIONAL_SECTIONS = ['asterisk.ari', 'bitrix.app'];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function setPath(root: Record<string, unknown>, path: string, value: string): void {
  const keys = path.split('.');
  let node = root;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (next === undefined || next === null) node[key] = {};
    else if (typeof next !== 'object') return; // the schema reports the wrong type
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

/** Validates an already-parsed document, applying secrets from the environment first. */
export function parseConfig(doc: unknown, env: Env = {}): Config {
  if (doc !== null && doc !== undefined && (typeof doc !== 'object' || Array.isArray(doc))) {
    throw new ConfigError(['(root): must be a YAML mapping']);
  }
  const root = (doc ? structuredClone(doc) : {}) as Record<string, unknown>;
  for (const [path, name] of Object.entries(SECRET_ENV)) {
    const value = env[name];
    // A secret of an optional section (ARI, the application) only applies when that section exists.
    const section = OPTIONAL_SECTIONS.find((s) => path.startsWith(`${s}.`));
    if (value && (section === undefined || hasPath(root, section))) setPath(root, path, value);
  }
  const result = configSchema.safeParse(root);
  if (!result.success) {
    // Messages carry the key path and reason, never the offending value (it may be a secret).
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return result.data;
}

function hasPath(root: Record<string, unknown>, path: string): boolean {
  let node: unknown = root;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return false;
    node = (node as Record<string, unknown>)[key];
  }
  return node !== undefined && node !== null;
}

/** Reads YAML from disk. The only reader of process.env is the caller that passes `env`. */
export function loadConfigFile(file: string, env: Env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError([`${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  return parseConfig(doc, env);
}
