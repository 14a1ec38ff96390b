import { createTwoFilesPatch } from 'diff'
import type { ChangeView } from './step.js'

/** Stable JSON: sorted keys, Secrets masked by their own toJSON. */
export function stableStringify(value: unknown, indent = 0): string {
  return JSON.stringify(sortKeys(value), null, indent)
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value === null || typeof value !== 'object') return value
  const withJson = value as { toJSON?: () => unknown }
  if (typeof withJson.toJSON === 'function') return withJson.toJSON()
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  )
}

/** The view of a change that has no describe(): `op` plus the rest of its fields. */
export function defaultChangeView(change: unknown): ChangeView {
  if (change && typeof change === 'object' && 'op' in change) {
    const { op, ...rest } = change as { op: unknown } & Record<string, unknown>
    return { summary: `${String(op)} ${stableStringify(rest)}` }
  }
  return { summary: typeof change === 'string' ? change : stableStringify(change) }
}

/** A unified diff of before/after without the file header, or undefined when there is nothing to show. */
export function renderDiff(view: ChangeView, context = 3): string | undefined {
  if (view.before === undefined && view.after === undefined) return undefined
  const patch = createTwoFilesPatch('before', 'after', view.before ?? '', view.after ?? '', undefined, undefined, { context })
  const lines = patch.split('\n').filter((l) => !l.startsWith('===') && l !== '\\ No newline at end of file')
  return lines.slice(2).join('\n').trimEnd()
}
