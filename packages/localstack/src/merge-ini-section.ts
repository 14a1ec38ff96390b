/*
 * `~/.aws/config` and `~/.aws/credentials` are the user's files: one section is ours, every other byte is theirs
 * and stays as it is, comments, order and line endings included.
 */

const HEADER = /^\s*\[([^\]]*)\]\s*$/
const ENTRY = /^\s*([A-Za-z0-9_.-]+)\s*=/

const splitLines = (text: string) => text.match(/[^\n]*\n|[^\n]+$/g) ?? []
const isBlank = (line: string) => line.trim() === ''

/** Where `[name]` starts and ends (the next header, or the end), or undefined when it is absent. */
function sectionSpan(lines: string[], name: string): { start: number; end: number } | undefined {
  const start = lines.findIndex((l) => HEADER.exec(l.trimEnd())?.[1]?.trim() === name)
  if (start < 0) return undefined
  let end = start + 1
  while (end < lines.length && !HEADER.test(lines[end]!.trimEnd())) end++
  return { start, end }
}

/** Pure. Sets `entries` in `[name]`, keeping that section's other keys and everything outside it byte for byte. */
export function mergeIniSection(text: string | undefined, name: string, entries: ReadonlyArray<readonly [string, string]>): string {
  const lines = splitLines(text ?? '')
  const rendered = (key: string, value: string) => `${key} = ${value}\n`
  const span = sectionSpan(lines, name)
  if (!span) {
    const before = text ?? ''
    const separator = before === '' ? '' : before.endsWith('\n') ? (before.endsWith('\n\n') ? '' : '\n') : '\n\n'
    return `${before}${separator}[${name}]\n${entries.map(([k, v]) => rendered(k, v)).join('')}`
  }
  const body = lines.slice(span.start + 1, span.end)
  // Blank lines closing the section separate it from the next one: they stay after our keys.
  let contentEnd = body.length
  while (contentEnd > 0 && isBlank(body[contentEnd - 1]!)) contentEnd--
  const wanted = new Map(entries)
  const kept = body.slice(0, contentEnd).flatMap((line) => {
    const key = ENTRY.exec(line)?.[1]
    if (key === undefined || !wanted.has(key)) return [line]
    const value = wanted.get(key)!
    wanted.delete(key)
    return [rendered(key, value)]
  })
  const lastKept = kept.at(-1)
  const needsNewline = lastKept !== undefined && !lastKept.endsWith('\n') ? ['\n'] : []
  const added = [...wanted].map(([k, v]) => rendered(k, v))
  const section = [lines[span.start]!.endsWith('\n') ? lines[span.start]! : `${lines[span.start]}\n`, ...kept, ...needsNewline, ...added, ...body.slice(contentEnd)]
  return [...lines.slice(0, span.start), ...section, ...lines.slice(span.end)].join('')
}

/** Pure. The text of `[name]` alone, for a diff that must not show the user's other profiles (their keys, say). */
export function iniSectionText(text: string | undefined, name: string): string | undefined {
  const lines = splitLines(text ?? '')
  const span = sectionSpan(lines, name)
  return span ? lines.slice(span.start, span.end).join('') : undefined
}
