import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { effectsText, EXPECTED_DIR, traceNames } from '../test/support/traces.js';

/**
 * Rewrites the reviewed effects of every recorded trace (test/fixtures/expected/<trace>.effects.jsonl) from what the
 * core gives now, and shows what changed with git, for review: a changed line is a changed Bitrix24 command.
 *
 *   npm run golden            rewrite, then print `git diff` of the expected files
 *   npm run golden -- --check change nothing; exit 1 if any file differs from the core's output (for CI)
 */

const check = process.argv.includes('--check');
const names = traceNames();
const changed: string[] = [];
for (const name of names) {
  const path = `${EXPECTED_DIR}${name}.effects.jsonl`;
  const now = effectsText(name);
  if (existsSync(path) && readFileSync(path, 'utf8') === now) continue;
  changed.push(name);
  if (!check) writeFileSync(path, now);
}
const stale = readdirSync(EXPECTED_DIR)
  .filter((f) => f.endsWith('.effects.jsonl'))
  .map((f) => f.slice(0, -'.effects.jsonl'.length))
  .filter((name) => !names.includes(name));

for (const name of stale) process.stdout.write(`${name}: an expected file without a trace (test/fixtures/ami/${name}.ami); remove it or restore the trace\n`);
if (changed.length === 0) {
  process.stdout.write(`all ${names.length} expected files match the core\n`);
} else if (check) {
  process.stdout.write(`${changed.length} expected file(s) differ from the core: ${changed.join(', ')}\nrun \`npm run golden\` and review the diff\n`);
} else {
  process.stdout.write(`rewrote ${changed.length} expected file(s): ${changed.join(', ')}\n\n`);
  // The diff is the review: every line is one effect (a Bitrix24 command, a card, a summary) at its trace time.
  const diff = execFileSync('git', ['--no-pager', 'diff', '--stat', '--', EXPECTED_DIR], { encoding: 'utf8' });
  if (diff === '') process.stdout.write('(they now match the committed files again: nothing to review)\n');
  else execFileSync('git', ['--no-pager', 'diff', '--stat', '--patch', '--', EXPECTED_DIR], { stdio: 'inherit' });
}
process.exitCode = (check && changed.length > 0) || stale.length > 0 ? 1 : 0;
