#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError, loadConfigFile } from './config/load.js';
import { runCheck } from './daemon/check.js';
import { runDaemon } from './daemon/run.js';
import { runParked } from './daemon/parked.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command()
  .name('asterisk-b24-bridge')
  .description('Joins an Asterisk PBX (AMI) to Bitrix24 telephony: call cards, call log, recordings, click-to-call.')
  .version(pkg.version);

program
  .command('run')
  .description('run the daemon')
  .requiredOption('-c, --config <file>', 'YAML configuration file')
  .action(async (opts: { config: string }) => {
    const config = loadOrExit(opts.config);
    await runDaemon(config, opts.config);
  });

program
  .command('check')
  .description('validate the config, log in to AMI, call the portal once; print pass/fail per item')
  .requiredOption('-c, --config <file>', 'YAML configuration file')
  .action(async (opts: { config: string }) => {
    const ok = await runCheck(opts.config, process.env, (line) => process.stdout.write(`${line}\n`));
    process.exitCode = ok ? 0 : 1;
  });

program
  .command('parked')
  .description('list Bitrix24 commands parked after contract errors; ask the daemon to retry them')
  .requiredOption('-c, --config <file>', 'YAML configuration file')
  .option('--retry <seq...>', 'retry these parked commands')
  .option('--retry-all', 'retry every parked command')
  .action((opts: { config: string; retry?: string[]; retryAll?: boolean }) => {
    const config = loadOrExit(opts.config);
    process.exitCode = runParked(config, opts, (line) => process.stdout.write(`${line}\n`));
  });

program
  .command('auth')
  .description('app mode: print the URL that authorises the Bitrix24 application, or exchange the code it gives')
  .requiredOption('-c, --config <file>', 'YAML configuration file')
  .option('--code <code>', 'the code= value Bitrix24 put in the browser\'s address bar (valid 30 s)')
  .action(async (opts: { config: string; code?: string }) => {
    const config = loadOrExit(opts.config);
    const { runAuth } = await import('./app/auth-command.js');
    process.exitCode = await runAuth(config, opts, (line) => process.stdout.write(`${line}\n`));
  });

program
  .command('demo')
  .description('run against the built-in PBX simulator (real Asterisk 22 traces) and Bitrix24 emulator')
  .option('--speed <x>', 'replay speed (1 = real time)', '20')
  .option('--trace <name...>', 'only these traces (e.g. support_ringall_answer)')
  .option('--auth <mode>', 'webhook, or app: a local application with offline click-to-call events', 'webhook')
  .option('--stay', 'after the traces, keep the daemon and its live view up until Ctrl-C (the default on a terminal)')
  .option('--no-stay', 'exit when the traces are done (the default when the output is not a terminal)')
  .action(async (opts: { speed: string; trace?: string[]; auth: string; stay?: boolean }) => {
    if (opts.auth !== 'webhook' && opts.auth !== 'app') {
      process.stderr.write('--auth must be webhook or app\n');
      process.exit(2);
    }
    const { runDemo } = await import('./demo/demo.js');
    const stay = opts.stay ?? process.stdout.isTTY === true;
    const untilCtrlC = () => new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    await runDemo({
      speed: Number(opts.speed) || 20,
      auth: opts.auth,
      ...(opts.trace ? { traces: opts.trace } : {}),
      ...(stay ? { holdOpen: untilCtrlC } : {}),
      print: (l) => process.stdout.write(`${l}\n`),
    });
  });

function loadOrExit(file: string) {
  try {
    return loadConfigFile(file, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

await program.parseAsync(process.argv);
