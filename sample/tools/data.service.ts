import { Injectable } from '@nestjs/common';
import { Guarded } from '../../lib';

export interface DeletedRow {
  table: string;
  id: string;
  deleted: true;
}

/**
 * A stand-in for a database. The sample policy blocks every `data.*` action,
 * so this body never runs: `deleted` stays empty, which is what the demo and
 * the tests check to prove the guard held.
 */
@Injectable()
export class DataService {
  readonly deleted: DeletedRow[] = [];

  @Guarded('data.delete')
  async delete(table: string, id: string): Promise<DeletedRow> {
    const row: DeletedRow = { table, id, deleted: true };
    this.deleted.push(row);
    return row;
  }
}
