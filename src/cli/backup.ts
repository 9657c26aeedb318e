import { existsSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { backupDatabase } from '../store/sqlite/backup.js';
import { MissingDatabaseError, StorageFaultError } from '../store/errors.js';
import { defineCommand, STORE_ENVIRONMENT } from './command.js';

/**
 * An online, consistent copy of the ledger's SQLite file while `serve` goes on writing it:
 * SQLite's backup API, every page in one read transaction. The copy is a ledger database of
 * its own: `LEDGER_DB=<copy> ledger serve` starts on it. On EventStoreDB the events are the
 * cluster's, and so are its backups.
 */
export const backup = defineCommand({
  name: 'backup',
  summary: "copy LEDGER_DB to a file, consistent and online (SQLite's backup API) while serve goes on writing",
  positionals: { usage: '<file>', min: 1, max: 1 },
  options: {
    force: { type: 'boolean', description: 'replace <file> if it exists (it is replaced only once the copy is whole)' },
  },
  environment: STORE_ENVIRONMENT,
  examples: ['ledger backup /var/backups/ledger-$(date +%F).db', 'ledger backup nightly.db --force'],
  async run({ values, positionals }, { config, out, err }) {
    if (config.LEDGER_STORE === 'eventstoredb') {
      err(
        'with LEDGER_STORE=eventstoredb the events live in the cluster: back them up with the cluster\'s own backups (KurrentDB\'s ' +
          'file-copy or snapshot procedures); LEDGER_DB holds only this instance\'s read model, which a new instance rebuilds from $all',
      );
      return 2;
    }
    const source = config.LEDGER_DB;
    const target = resolve(positionals[0]!);
    if (!existsSync(source)) throw new MissingDatabaseError(source);
    if (!existsSync(dirname(target))) {
      err(`the folder of ${target} does not exist: create it first`);
      return 1;
    }
    if (existsSync(target)) {
      if (realpathSync(target) === realpathSync(source)) {
        err(`${target} is the ledger's database itself (LEDGER_DB): name another file`);
        return 1;
      }
      if (values.force !== true) {
        err(`${target} exists: name another file, or give --force to replace it`);
        return 1;
      }
    }
    let copied;
    try {
      copied = await backupDatabase(source, target);
    } catch (error) {
      if (!(error instanceof StorageFaultError && error.operation === 'write')) throw error;
      err(`cannot write the backup ${target}: ${error.description}; nothing was left there`);
      return 1;
    }
    out(
      `backed up ${source} to ${copied.file}: ${copied.events} events up to position ${copied.position}, ` +
        `read model at position ${copied.readModelPosition}, ${copied.bytes} bytes`,
    );
    return 0;
  },
});
