// `r1 validate FILE`: the file is read line by line, so a large dataset is checked in bounded memory.
import { DatasetKind, formatDiagnostic } from '../../data/records';
import { validateFileStreaming } from '../../data/streamValidate';

export function validateCommand(file: string, opts: { kind?: DatasetKind; json?: boolean }): void {
  const { kind, diagnostics, records } = validateFileStreaming(file, opts.kind);
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  if (opts.json) {
    process.stdout.write(
      JSON.stringify({
        file,
        kind: kind ?? null,
        records,
        errors,
        warnings: diagnostics.length - errors,
        diagnostics,
      }) + '\n',
    );
  } else {
    for (const d of diagnostics) process.stdout.write(formatDiagnostic(d) + '\n');
    process.stderr.write(
      `${file}: ${records} records${kind ? ` (${kind})` : ''}, ${errors} errors, ${diagnostics.length - errors} warnings\n`,
    );
  }
  if (errors > 0) process.exitCode = 1;
}
