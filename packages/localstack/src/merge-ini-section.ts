/*
 * `~/.aws/config` and `~/.aws/credentials` are the user's files: one section is ours, every other byte is theirs
 * and stays as it is, comments, order and line endings included.
 *
 * Lines are read the way the AWS CLI reads them (Python's configparser, through botocore): a header is `[` … the last
 * `]` of the stripped line, whatever follows (`[profile localstack]  # mine`); option names are compared in lower
 * case; a line indented deeper than the option before it continues that option's value (`s3 =` then
 * `  endpoint_url = …`), so it is never taken for a key of its own.
 */

const HEADER = /^\[(.+)\]/
const COMMENT = /^[#;]/

type Line =
  | { kind: 'header'; name: string }
  | { kind: 'option'; key: string }
  | { kind: 'continuation' }
  | { kind: 'other' } // blank, comment, or text configparser would refuse: kept as it is

const splitLines = (text: string) => text.match(/[^\n]*\n|[^\n]+$/g) ?? []
const isBlank = (line: string) => line.trim() === ''
const indentOf = (line: string) => /^\s*/.exec(line)![0].length
// botocore splits `profile  name` on whitespace: a header with extra spaces names the same profile.
const sectionName = (header: string) => header.trim().split(/\s+/).join(' ')

/** What each line is, in configparser's terms (default delimiters `=` and `:`, comment prefixes `#` and `;`). */
function classify(lines: string[]): Line[] {
  let option = false
  let indent = 0
  return lines.map((line): Line => {
    const value = line.trim()
    if (value === '' || COMMENT.test(value)) return { kind: 'other' }
    const lineIndent = indentOf(line)
    if (option && lineIndent > indent) return { kind: 'continuation' }
    indent = lineIndent
    const header = HEADER.exec(value)
    if (header) {
      option = false
      return { kind: 'header', name: sectionName(header[1]!) }
    }
    const delimiter = value.search(/[=:]/)
    option = delimiter > 0
    return option ? { kind: 'option', key: value.slice(0, delimiter).trim().toLowerCase() } : { kind: 'other' }
  })
}

/** Where `[name]` starts and ends (the next header, or the end), or undefined when it is absent. */
function sectionSpan(kinds: Line[], name: string): { start: number; end: number } | undefined {
  const wanted = sectionName(name)
  const start = kinds.findIndex((l) => l.kind === 'header' && l.name === wanted)
  if (start < 0) return undefined
  let end = start + 1
  while (end < kinds.length && kinds[end]!.kind !== 'header') end++
  return { start, end }
}

export type MergeIniOptions = {
  /** Keys to take out of the section (a setting no longer wanted), with their continuation lines. */
  remove?: readonly string[]
}

/**
 * Pure. Sets `entries` in `[name]` and drops `options.remove` from it, keeping that section's other keys and everything
 * outside it byte for byte. A key we set replaces the user's spelling of it (`Region`), continuation lines and all.
 */
export function mergeIniSection(text: string | undefined, name: string, entries: ReadonlyArray<readonly [string, string]>, options: MergeIniOptions = {}): string {
  const lines = splitLines(text ?? '')
  const kinds = classify(lines)
  const rendered = (key: string, value: string) => `${key} = ${value}\n`
  const span = sectionSpan(kinds, name)
  if (!span) {
    const before = text ?? ''
    const separator = before === '' ? '' : before.endsWith('\n') ? (before.endsWith('\n\n') ? '' : '\n') : '\n\n'
    return `${before}${separator}[${name}]\n${entries.map(([k, v]) => rendered(k, v)).join('')}`
  }
  const body = lines.slice(span.start + 1, span.end)
  const bodyKinds = kinds.slice(span.start + 1, span.end)
  // Blank lines closing the section separate it from the next one: they stay after our keys.
  let contentEnd = body.length
  while (contentEnd > 0 && isBlank(body[contentEnd - 1]!)) contentEnd--
  const wanted = new Map(entries.map(([k, v]) => [k.toLowerCase(), [k, v] as const]))
  const owned = new Set([...wanted.keys(), ...(options.remove ?? []).map((k) => k.toLowerCase())])
  let dropping = false
  const kept = body.slice(0, contentEnd).flatMap((line, i) => {
    const kind = bodyKinds[i]!
    if (kind.kind === 'continuation') return dropping ? [] : [line]
    if (kind.kind !== 'option') return [line]
    dropping = owned.has(kind.key)
    if (!dropping) return [line]
    const entry = wanted.get(kind.key)
    wanted.delete(kind.key)
    // A second line for a key we own (configparser would refuse the file) goes too.
    return entry ? [rendered(...entry)] : []
  })
  const lastKept = kept.at(-1)
  const needsNewline = lastKept !== undefined && !lastKept.endsWith('\n') ? ['\n'] : []
  const added = [...wanted.values()].map(([k, v]) => rendered(k, v))
  const section = [lines[span.start]!.endsWith('\n') ? lines[span.start]! : `${lines[span.start]}\n`, ...kept, ...needsNewline, ...added, ...body.slice(contentEnd)]
  return [...lines.slice(0, span.start), ...section, ...lines.slice(span.end)].join('')
}

/** Pure. The text of `[name]` alone, for a diff that must not show the user's other profiles (their keys, say). */
export function iniSectionText(text: string | undefined, name: string): string | undefined {
  const lines = splitLines(text ?? '')
  const span = sectionSpan(classify(lines), name)
  return span ? lines.slice(span.start, span.end).join('') : undefined
}
