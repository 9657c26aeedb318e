import { inSpan, LedgerAttributes, SpanKind } from '../tracing/tracer.js';
import type { AppendOptions, AppendResult } from './port.js';

/**
 * Runs an adapter's append in a span of its own (a child of the command's): the time in the
 * store, from the call to the acknowledgement (for SQLite, the wait for its batch, the commit
 * and the sync), with where the append landed.
 */
export function appendInSpan(
  system: 'sqlite' | 'eventstoredb',
  streamName: string,
  eventCount: number,
  options: AppendOptions | undefined,
  append: () => Promise<AppendResult>,
): Promise<AppendResult> {
  const attributes = {
    'db.system.name': system,
    'db.operation.name': 'append',
    [LedgerAttributes.stream]: streamName,
    [LedgerAttributes.events]: eventCount,
    'ledger.expected_revision': String(options?.expectedRevision ?? 'any'),
  };
  return inSpan('store append', { attributes, kind: SpanKind.CLIENT }, async (span) => {
    const result = await append();
    span.setAttributes({
      [LedgerAttributes.revision]: String(result.revision),
      [LedgerAttributes.position]: String(result.position),
      [LedgerAttributes.alreadyRecorded]: result.alreadyRecorded,
    });
    return result;
  });
}
