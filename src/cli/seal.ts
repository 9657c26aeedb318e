import { createLedger, ledgerOptionsOf } from '../application/create-ledger.js';
import { sealLog, sealsDocument } from '../audit/sealer.js';
import { writeNewSealKey } from '../audit/seals.js';
import { SESSION_CATEGORY } from '../events/index.js';
import { defineCommand, STORE_ENVIRONMENT, UsageError } from './command.js';

/** How long `ledger seal` lets the read model catch up with the log before it seals. */
const CATCH_UP_MS = 60_000;

/**
 * Seals on demand (the read model first brought up to the log), writes a new key pair, or
 * prints the seals document that `ledger verify --seals` reads.
 */
export const seal = defineCommand({
  name: 'seal',
  summary: 'sign the heads of the log now (LEDGER_SEAL_KEY_FILE); --new-key <file> writes a key pair; --list prints the seals',
  options: {
    'new-key': { type: 'string', value: '<file>', description: 'write a new Ed25519 key pair: the private key to <file> (mode 0600), the public one to <file>.pub' },
    list: { type: 'boolean', description: 'print the seals document that `ledger verify --seals` reads' },
  },
  environment: [...STORE_ENVIRONMENT, 'LEDGER_SEAL_KEY_FILE'],
  examples: ['ledger seal --new-key /etc/ledger/seal-key.pem', 'LEDGER_SEAL_KEY_FILE=/etc/ledger/seal-key.pem ledger seal', 'ledger seal --list > seals.json'],
  async run({ values }, { config, out, err, clock }) {
    const { 'new-key': newKey, list = false } = values;
    if (newKey !== undefined && list) throw new UsageError('--new-key and --list are separate uses');
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
    if (!list && config.LEDGER_SEAL_KEY_FILE === undefined) throw new UsageError('no key to seal with: set LEDGER_SEAL_KEY_FILE (ledger seal --new-key <file> writes one)');
    // Listing only reads; sealing writes its seal, but only into a ledger that exists.
    const ledger = await createLedger(ledgerOptionsOf(config, clock, undefined, list ? 'read-only' : 'existing'));
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
});
