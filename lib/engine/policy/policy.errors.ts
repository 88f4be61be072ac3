import { ProvenanceError } from '../../protocol/provenance.errors';

/**
 * A policy document is not valid. Carries where the problem is, so that an
 * editor, a CLI or a start-up log can point at it:
 * `policy.yml: rules[2].conditions[0].operator: unknown operator 'gte' (...)`.
 */
export class PolicyValidationError extends ProvenanceError {
  /** The file as the caller named it, or null for a policy given as an object. */
  readonly file: string | null;
  /** Index of the offending rule, or null when the problem is not inside one rule. */
  readonly ruleIndex: number | null;
  /** Path of the offending value inside the document (`rules[2].on_match`), or '' for the document itself. */
  readonly field: string;
  /** 1-based line in the file, when the problem is a syntax error that the parser located. */
  readonly line: number | null;
  /** The problem alone, without the file and field prefix. */
  readonly problem: string;

  constructor(details: {
    file: string | null;
    ruleIndex: number | null;
    field: string;
    problem: string;
    line?: number | null;
  }) {
    super(PolicyValidationError.format(details.file, details.field, details.problem));
    this.file = details.file;
    this.ruleIndex = details.ruleIndex;
    this.field = details.field;
    this.line = details.line ?? null;
    this.problem = details.problem;
  }

  private static format(file: string | null, field: string, problem: string): string {
    const where = [file, field].filter((part) => part !== null && part !== '').join(': ');
    return where === '' ? problem : `${where}: ${problem}`;
  }
}
