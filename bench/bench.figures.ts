/** One measured number, as the table prints it and `--json` emits it. */
export interface Figure {
  /** Stable key for scripts, e.g. `evaluation.sample.p50`. */
  id: string;
  group: string;
  /** What was measured, for the table. */
  label: string;
  value: number;
  unit: string;
  target?: Target;
  /** Set when there is a target. */
  pass?: boolean;
  note?: string;
}

export interface Target {
  /** `max`: the value must not exceed `value`; `min`: it must reach it. */
  kind: 'max' | 'min';
  value: number;
  unit: string;
}

export function figure(
  group: string,
  id: string,
  label: string,
  value: number,
  unit: string,
  extra: { target?: Target; note?: string } = {},
): Figure {
  const out: Figure = { id: `${group}.${id}`, group, label, value, unit };
  if (extra.target !== undefined) {
    out.target = extra.target;
    out.pass =
      extra.target.kind === 'max' ? value <= extra.target.value : value >= extra.target.value;
  }
  if (extra.note !== undefined) out.note = extra.note;
  return out;
}

export const atMost = (value: number, unit: string): Target => ({ kind: 'max', value, unit });
export const atLeast = (value: number, unit: string): Target => ({ kind: 'min', value, unit });

/** What a group's child process sends back to the runner. */
export interface GroupReport {
  group: string;
  figures: Figure[];
  /** Facts about the set-up worth printing once (policy rule counts, server used). */
  context: Record<string, string | number | boolean>;
  seconds: number;
}
