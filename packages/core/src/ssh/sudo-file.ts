import { createHash } from 'node:crypto'
import { BACKUP_STAMP_GLOB, backupPrefix, backupStamp, DEFAULT_FILE_MODE, splitPath, tempPrefix, type WriteFileAtomicOptions } from './remote-file-names.js'
import { shellJoin } from './shell-quote.js'

/** Exit code the read script uses for "no such file", distinct from cat's and sudo's own failures (1). */
export const MISSING_EXIT_CODE = 66
/** Exit codes of the write script when stdin ended early or arrived damaged: the target was left untouched. */
export const SHORT_INPUT_EXIT_CODE = 70

const READ_SCRIPT = `[ -e "$1" ] || exit ${MISSING_EXIT_CODE}; exec cat -- "$1"`

/*
 * Runs as root under `sudo sh -c`; on stdin, after the password line, a line `SIZE SHA256` and then the data. The size
 * and checksum check matters: when the writer dies mid-transfer, sshd closes stdin, `cat` sees a normal end of file,
 * and without the check the truncated temp file would be renamed over the target. They travel on stdin, not as
 * arguments: the argv of sudo is in `ps` and in sudo's log, and a checksum of a file whose every other byte is
 * predictable (a registries.yaml) gives its password away to a guess. Paths arrive as positional parameters.
 */
const WRITE_SCRIPT = [
  'set -eu',
  'target=$1 dir=$2 tmpprefix=$3 mode=$4 keep=$5 backup=$6',
  // `read` takes the header line byte by byte, leaving the data for `cat`.
  `IFS=' ' read -r size sum || { echo "stdin ended before the data; $target left unchanged" >&2; exit ${SHORT_INPUT_EXIT_CODE}; }`,
  `case "$size" in ''|*[!0-9]*) echo "a damaged header on stdin; $target left unchanged" >&2; exit ${SHORT_INPUT_EXIT_CODE} ;; esac`,
  'mkdir -p -- "$dir"',
  'rm -f -- "$tmpprefix"*',
  'tmp=',
  // dash runs an EXIT trap on exit, not on a fatal signal: turn the signals a dropped connection brings into exits.
  'trap \'rm -f -- "$tmp"\' EXIT',
  "trap 'exit 129' HUP INT TERM PIPE",
  'tmp=$(mktemp -- "${tmpprefix}XXXXXX")',
  'cat > "$tmp"',
  // Remove before reporting: with the client gone, writing to stderr raises SIGPIPE.
  `got=$(wc -c < "$tmp"); [ "$got" -eq "$size" ] || { rm -f -- "$tmp"; echo "stdin ended after $got of $size bytes; $target left unchanged" >&2; exit ${SHORT_INPUT_EXIT_CODE}; }`,
  `printf '%s  %s\\n' "$sum" "$tmp" | sha256sum -c --status || { rm -f -- "$tmp"; echo "checksum mismatch; $target left unchanged" >&2; exit ${SHORT_INPUT_EXIT_CODE}; }`,
  'chmod "$mode" "$tmp"',
  'sync -- "$tmp"',
  'if [ "$keep" -gt 0 ] && [ -e "$target" ]; then ln -f -- "$target" "$backup"; fi',
  'mv -f -- "$tmp" "$target"',
  'trap - EXIT',
  'sync -- "$dir"',
  '[ "$keep" -gt 0 ] || exit 0',
  // The glob expands sorted, and the timestamps sort by age: drop from the front until `keep` remain. Only names of
  // our own timestamp form match: an operator's `.bak-before-upgrade` is not ours to delete.
  `set -- "\${backup%.bak-*}.bak-"${BACKUP_STAMP_GLOB}`,
  'n=$#',
  'for f do [ "$n" -le "$keep" ] && break; rm -f -- "$f"; n=$((n - 1)); done',
].join('\n')

export const readFileCommand = (path: string): string => shellJoin(['sh', '-c', READ_SCRIPT, 'sh', path])

/** The command (no secret-derived value in it) and what goes on its stdin after sudo's password line. */
export function writeFileAtomicCommand(path: string, data: Buffer, options: WriteFileAtomicOptions): { command: string; stdin: Buffer } {
  const { dir, base } = splitPath(path)
  const mode = (options.mode ?? DEFAULT_FILE_MODE).toString(8).padStart(4, '0')
  const keep = options.backup?.keep ?? 0
  const command = shellJoin([
    'sh',
    '-c',
    WRITE_SCRIPT,
    'sh',
    path,
    dir,
    `${dir === '/' ? '' : dir}/${tempPrefix(base)}`,
    mode,
    String(keep),
    `${dir === '/' ? '' : dir}/${backupPrefix(base)}${backupStamp(new Date())}`,
  ])
  const header = `${data.length} ${createHash('sha256').update(data).digest('hex')}\n`
  return { command, stdin: Buffer.concat([Buffer.from(header), data]) }
}
