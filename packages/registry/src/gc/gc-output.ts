import { shellQuote } from '@homelab/core'

export type GcScriptOptions = {
  dryRun: boolean
  deleteUntagged: boolean
  /** The config file inside the Job's pod. */
  configPath: string
  /** storage.filesystem.rootdirectory, to measure what the eligible blobs hold. */
  rootDirectory: string
}

/**
 * Pure. The Job's shell script: run garbage-collect, then condense its output (one line per blob, far past the 4 KiB a
 * termination message holds) into `key: value` lines — exit code, the summary line, bytes held by eligible blobs,
 * blobs deleted, the error tail, the repositories seen — for parseGcReport.
 */
export function gcScript(options: GcScriptOptions): string {
  const flags = [...(options.dryRun ? ['--dry-run'] : []), ...(options.deleteUntagged ? ['--delete-untagged'] : [])]
  const blobs = `${options.rootDirectory.replace(/\/$/, '')}/docker/registry/v2/blobs/sha256`
  return [
    `registry garbage-collect ${flags.join(' ')} ${shellQuote(options.configPath)} > /tmp/gc.log 2>&1`,
    'rc=$?',
    '{',
    '  echo "exit: $rc"',
    "  grep -E '^[0-9]+ blobs marked' /tmp/gc.log | sed 's/^/summary: /'",
    '  total=0',
    "  for d in $(grep -o 'blob eligible for deletion: sha256:[a-f0-9]*' /tmp/gc.log | sed 's/.*sha256://'); do",
    `    f=${shellQuote(blobs)}/$(echo "$d" | cut -c1-2)/$d/data`,
    '    if [ -f "$f" ]; then total=$((total + $(stat -c %s "$f"))); fi',
    '  done',
    '  echo "eligible-bytes: $total"',
    '  echo "deleted: $(grep -c \'Deleting blob\' /tmp/gc.log)"',
    "  if [ \"$rc\" -ne 0 ]; then tail -c 1200 /tmp/gc.log | sed 's/^/error: /'; fi",
    "  grep -E '^[a-z0-9][a-z0-9._/-]*$' /tmp/gc.log | sort -u | sed 's/^/repository: /'",
    '} | head -c 4000 > /dev/termination-log',
    'exit $rc',
  ].join('\n')
}

export type GcReport = {
  exitCode: number | undefined
  /** From garbage-collect's summary line; undefined when it did not get that far. */
  marked: number | undefined
  eligibleBlobs: number
  eligibleManifests: number
  /** What the eligible blobs hold on disk (measured before any deletion). */
  eligibleBytes: number
  /** "Deleting blob" lines of a real run. */
  deleted: number
  repositories: string[]
  /** A registry nobody has pushed to has no repositories folder, which garbage-collect reports as an error. */
  emptyRegistry: boolean
  errorTail: string
}

/** Pure: the Job's termination message (see gcScript) as data. */
export function parseGcReport(message: string, exitCode: number | undefined): GcReport {
  const values = (key: string) => message.split('\n').filter((l) => l.startsWith(`${key}: `)).map((l) => l.slice(key.length + 2))
  const number = (key: string) => Number(values(key)[0] ?? 0) || 0
  const summary = /^(\d+) blobs marked, (\d+) blobs and (\d+) manifests eligible/.exec(values('summary')[0] ?? '')
  const errorTail = values('error').join('\n')
  return {
    exitCode,
    marked: summary ? Number(summary[1]) : undefined,
    eligibleBlobs: summary ? Number(summary[2]) : 0,
    eligibleManifests: summary ? Number(summary[3]) : 0,
    eligibleBytes: number('eligible-bytes'),
    deleted: number('deleted'),
    repositories: values('repository'),
    emptyRegistry: exitCode !== 0 && /Path not found: \/docker\/registry\/v2\/repositories/.test(errorTail),
    errorTail,
  }
}

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

/** `1.5 MiB`: sizes as people read them. */
export function formatBytes(bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`
}

/** Pure: the report in the words the runbook prints. */
export function describeGcReport(report: GcReport): string[] {
  if (report.emptyRegistry) return ['the registry holds no repositories yet: nothing to collect']
  const repos = report.repositories
  return [
    `${report.eligibleBlobs} blobs eligible for deletion (${formatBytes(report.eligibleBytes)}), ${report.eligibleManifests} manifests; ${report.marked ?? 0} blobs still in use`,
    ...(repos.length > 0 ? [`repositories: ${repos.slice(0, 20).join(', ')}${repos.length > 20 ? ` and ${repos.length - 20} more` : ''}`] : []),
  ]
}
