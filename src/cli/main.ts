#!/usr/bin/env node
import { packageVersion } from '../project-root.js';
import { ledgerCommands } from './commands.js';
import { runCli } from './dispatch.js';
import { progressOn } from './progress.js';

process.exitCode = await runCli(process.argv.slice(2), ledgerCommands, packageVersion(), {
  env: process.env,
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  clock: () => new Date(),
  stdout: process.stdout,
  progress: (label, total) => progressOn(process.stderr, label, total),
});
