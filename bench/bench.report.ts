import type { Figure, GroupReport } from './bench.figures';

const TITLES: Record<string, string> = {
  evaluation: '1. Embedded evaluation (evaluatePolicy)',
  gated: '2. Full embedded gated call (gateway.execute through ProvenanceModule)',
  http: '3. HTTP mode overhead (module vs raw keep-alive POST, same server)',
  server: '3b. Gateway server throughput (autocannon, 64 connections, vs a bare Nest route)',
  memory: '4. Memory',
  audit: '5. Audit verification',
  postgres: '6. Gated call on PostgreSQL (1 and 2 replica processes, cross-replica approval)',
};

export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return String(value);
  if (unit === 'ratio' || unit === '×') return `${value.toFixed(3)}`;
  const abs = Math.abs(value);
  const digits = abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 10 ? 2 : 3;
  return value.toLocaleString('en-GB', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function targetText(f: Figure): string {
  if (f.target === undefined) return '';
  return `${f.target.kind === 'max' ? '≤' : '≥'} ${formatValue(f.target.value, f.target.unit)}`;
}

function pad(text: string, width: number, right = false): string {
  const gap = Math.max(0, width - [...text].length);
  return right ? ' '.repeat(gap) + text : text + ' '.repeat(gap);
}

/** The human table: one block per group, target and PASS/MISS where the issue sets one. */
export function renderTable(reports: GroupReport[], header: string[]): string {
  const lines: string[] = [...header, ''];
  const all = reports.flatMap((r) => r.figures);
  const labelWidth = Math.min(72, Math.max(...all.map((f) => [...f.label].length)));
  for (const report of reports) {
    lines.push(`${TITLES[report.group] ?? report.group}  [${report.seconds.toFixed(1)} s]`);
    for (const f of report.figures) {
      const result = f.pass === undefined ? '' : f.pass ? 'PASS' : 'MISS';
      lines.push(
        `  ${pad(f.label, labelWidth)}  ${pad(formatValue(f.value, f.unit), 12, true)} ${pad(f.unit, 10)} ${pad(targetText(f), 12)} ${result}`,
      );
    }
    const context = Object.entries(report.context).filter(([key]) => key !== 'sink');
    if (context.length > 0) {
      lines.push(`  (${context.map(([key, value]) => `${key}: ${value}`).join('; ')})`);
    }
    lines.push('');
  }
  const targeted = all.filter((f) => f.pass !== undefined);
  const missed = targeted.filter((f) => !f.pass);
  lines.push(
    `targets: ${targeted.length - missed.length} PASS, ${missed.length} MISS` +
      (missed.length > 0 ? ` (${missed.map((f) => f.id).join(', ')})` : ''),
  );
  return lines.join('\n');
}
