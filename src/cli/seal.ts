import { createLedger, ledgerOptionsOf } from '../application/create-ledger.js';
import { sealLog, sealsDocument } from '../audit/sealer.js';
import { writeNewSealKey } from '../audit/seals.js';
import { SESSION_CATEGORY } from '../events/index.js';
import { parseArguments } from './arguments.js';
import type { CliCommand } from './command.js';

const usage = 'ledger seal [--new-key <file> | --list]   (LEDGER_SEAL_KEY_FILE names the key that signs)';

/** How long `ledger seal` lets the read model catch up with the log before it seals. */
const CATCH_UP_MS = 60_000;

/**
 * Seals on demand (the read model first brought up to the log), writes a new key pair, or
 * prints the seals document that `ledger verify --seals` reads.
 */
export const seal: CliCommand = {
  name: 'seal',
  summary: 'sign the heads of the log now (LEDGER_SEAL_KEY_FILE); --new-key <file> writes a key pair; --list prints the seals',
  usage,
  async run(args, { config, out, err, clock }) {
    const parsed = parseArguments(args, { 'new-key': { type: 'string' }, list: { type: 'boolean' } }, usage, err);
    if (!parsed) return 2;
    const { 'new-key': newKey, list = false } = parsed.values;
    if (parsed.positionals.length > 0 || (newKey !== undefined && list)) {
      err(`${parsed.positionals.length > 0 ? `unexpected arguments: ${parsed.positionals.join(' ')}` : '--new-key and --list are separate uses'}\nusage: ${usage}`);
      return 2;
    }
    if (newKey !== undefined) {
      try {
        const { publicKeyFile } = writeNewSealKey(newKey);
        out(`wrote the private key to ${newKey} (mode 0600) and its public key to ${publicKeyFile}`);
        out(`serve seals with it when LEDGER_SEAL_KEY_FILE=${newKey}; give auditors ${publicKeyFile}`);
        return 0;
      } catch (error) {
        err(`cannot write the key: ${(error as Error).message}`);
        return 1;
      }
    }
    if (!list && config.LEDGER_SEAL_KEY_FILE === undefined) {
      err(`no key to seal with: set LEDGER_SEAL_KEY_FILE (ledger seal --new-key <file> writes one)\nusage: ${usage}`);
      return 2;
    }
    const ledger = await createLedger(ledgerOptionsOf(config, clock));
    try {
      if (list) {
        out(JSON.stringify(sealsDocument(ledger.readModelDb, ledger.sealKey?.publicKeyPem ?? null), null, 2));
        return 0;
      }
      // A seal signs the log as the read model has it: first bring it up to the log.
      ledger.projector.start();
      const head = await ledger.store.lastPosition({ category: SESSION_CATEGORY });
      if (!(await ledger.projector.waitForPosition(head, CATCH_UP_MS))) {
        err(`the read model did not reach position ${head} within ${CATCH_UP_MS / 1000} s; nothing sealed`);
        return 1;
      }
      const sealed = await sealLog({ readModelPath: ledger.readModelPath, store: ledger.store, key: ledger.sealKey!, clock });
      out(sealed ? `sealed the log at position ${sealed.position}: heads ${sealed.headsHash}` : 'nothing to seal: the log has not moved since the last seal');
      return 0;
    } finally {
      await ledger.close();
    }
  },
};
