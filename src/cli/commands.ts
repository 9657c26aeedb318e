import { backup } from './backup.js';
import type { CliCommand } from './command.js';
import { demo } from './demo.js';
import { exportCommand } from './export.js';
import { history } from './history.js';
import { importLegacy } from './import-legacy.js';
import { replay } from './replay.js';
import { seal } from './seal.js';
import { serve } from './serve.js';
import { simulate } from './simulate.js';
import { token } from './token.js';
import { verify } from './verify.js';
import { webhooks } from './webhooks.js';

/** Every `ledger` command, in the order `ledger --help` lists them. */
export const ledgerCommands: readonly CliCommand[] = [serve, token, simulate, history, demo, verify, replay, exportCommand, seal, backup, webhooks, importLegacy];
