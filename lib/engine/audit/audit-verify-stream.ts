import { ChainVerifier, type AuditAnchor, type AuditVerification } from './audit-chain';
import type { AuditRecordLookup } from './audit-checkpoints';

/** One stored record as a stream yields it: the record, and its stored line when the store keeps text. */
export interface StoredRecord {
  record: unknown;
  line?: string;
}

/**
 * Verifies a log read as a stream (ChainVerifier) and keeps only the records
 * at the indexes `keep` asks for (the checkpoints' positions, the live head):
 * memory stays bounded by what is kept, whatever the log's length. The lookup
 * answers verifyCheckpoints and the live-head comparison.
 */
export async function verifyRecordStream(
  records: AsyncIterable<StoredRecord>,
  anchor: AuditAnchor | null,
  keep: (index: number) => boolean = () => false,
): Promise<{ verification: AuditVerification; lookup: AuditRecordLookup }> {
  const verifier = new ChainVerifier(anchor);
  const kept = new Map<number, unknown>();
  for await (const { record, line } of records) {
    const index = verifier.checked;
    if (keep(index)) kept.set(index, record);
    verifier.push(record, line);
  }
  const length = verifier.checked;
  return {
    verification: verifier.finish(),
    lookup: { length, at: (position) => kept.get(position) },
  };
}
