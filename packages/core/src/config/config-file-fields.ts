import { accessSync, constants, readFileSync, statSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { z } from 'zod'
import { Secret } from '../secret.js'
import { expectedGot } from './config-issue-text.js'
import { pemProblem } from './config-fields.js'

/**
 * Where relative paths in the config point: the config file's directory, and `~` is the caller's HOME. Taken as a
 * parameter so loading stays pure about the process.
 */
export type ConfigFileContext = {
  baseDir: string
  home: string | undefined
  /** The ssh-agent socket (`SSH_AUTH_SOCK`) that `nodes[].agent: true` resolves to. */
  sshAuthSock?: string | undefined
}

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a parent is not a directory',
}

/** Why a file cannot be read, in words; never its content. */
function fileProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code ?? ''
  return `${FILE_ERRORS[code] ?? 'cannot be read'}${code ? ` (${code})` : ''}`
}

export function resolveConfigPath(file: ConfigFileContext, path: string): string {
  if (path === '~' || path.startsWith('~/')) {
    if (file.home === undefined) throw new Error('HOME is not set, so a path starting with ~ cannot be expanded')
    return resolve(file.home, path.slice(2))
  }
  return isAbsolute(path) ? path : resolve(file.baseDir, path)
}

/** Reads a file named by a `*File` key. Issues name the path and the reason, never the content. */
export function readConfigFile(file: ConfigFileContext, path: string, ctx: z.RefinementCtx, key: string): string | undefined {
  const problem = (reason: string) => ctx.addIssue({ code: 'custom', path: [key], message: `cannot read ${JSON.stringify(path)}: ${reason}`, input: path })
  let absolute: string
  try {
    absolute = resolveConfigPath(file, path)
  } catch (error) {
    problem((error as Error).message)
    return undefined
  }
  try {
    if (statSync(absolute).isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' })
    return readFileSync(absolute, 'utf8')
  } catch (error) {
    problem(`${fileProblem(error)}${absolute === path ? '' : ` (resolved to ${absolute})`}`)
    return undefined
  }
}

/** A path that must name a readable file now (an SSH key, a kubeconfig); the output is absolute. */
export function existingFileField(file: ConfigFileContext) {
  return z.string({ error: (issue) => expectedGot('a file path', issue.input) }).transform((path, ctx) => {
    let absolute: string
    try {
      absolute = resolveConfigPath(file, path)
      if (statSync(absolute).isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' })
      accessSync(absolute, constants.R_OK)
    } catch (error) {
      const reason = error instanceof Error && !('code' in error) ? error.message : fileProblem(error)
      ctx.addIssue({ code: 'custom', message: `cannot read ${JSON.stringify(path)}: ${reason}`, input: path })
      return z.NEVER
    }
    return absolute
  })
}

/** A path that may not exist yet (known_hosts is created on first trust); only `~` and relative parts are resolved. */
export function laterFileField(file: ConfigFileContext) {
  return z.string({ error: (issue) => expectedGot('a file path', issue.input) }).transform((path, ctx) => {
    try {
      return resolveConfigPath(file, path)
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message, input: path })
      return z.NEVER
    }
  })
}

/** The inline half of a secret pair. Its message never shows the value, only its kind. */
export const secretText = () =>
  z.string({ error: (issue) => expectedGot('a string', issue.input, { secret: true }) }).min(1, { error: 'expected a non-empty string, got an empty one' })

/** The shape keys of a secret pair: `<name>` inline, `<name>File` read at load time. */
export function secretPair<K extends string>(name: K) {
  return {
    [name]: secretText().optional(),
    [`${name}File`]: z.string({ error: (issue) => expectedGot('a file path', issue.input) }).optional(),
  } as { [P in K]: ReturnType<typeof optionalSecretText> } & { [P in `${K}File`]: z.ZodOptional<z.ZodString> }
}
const optionalSecretText = () => secretText().optional()

type WithSecret<T, K extends string> = Omit<T, K | `${K}File`> & { [P in K]?: Secret }

/**
 * Turns a secret pair into one `Secret` (or absent: the owning package generates it once and keeps it in a Secret).
 * Both halves set is an error: which one wins would be a guess.
 */
export function resolveSecretPair<K extends string>(file: ConfigFileContext, name: K) {
  return <T extends Record<string, unknown>>(value: T, ctx: z.RefinementCtx): WithSecret<T, K> => {
    const fileKey = `${name}File`
    const { [name]: inline, [fileKey]: path, ...rest } = value
    if (inline !== undefined && path !== undefined) {
      ctx.addIssue({ code: 'custom', path: [fileKey], message: `set either ${name} or ${fileKey}, not both` })
      return z.NEVER
    }
    const raw = typeof path === 'string' ? secretFileContent(file, path, ctx, fileKey) : (inline as string | undefined)
    return { ...rest, ...(raw === undefined ? {} : { [name]: new Secret(raw) }) } as WithSecret<T, K>
  }
}

// One trailing newline is how editors and `echo` leave files; it is never part of the secret.
function secretFileContent(file: ConfigFileContext, path: string, ctx: z.RefinementCtx, key: string): string | undefined {
  const content = readConfigFile(file, path, ctx, key)?.replace(/\r?\n$/, '')
  if (content === '') ctx.addIssue({ code: 'custom', path: [key], message: `expected a secret in ${JSON.stringify(path)}, got an empty file` })
  return content || undefined
}

/** A CA certificate given inline (`ca`) or by file (`caFile`); the output holds the PEM text either way. */
export function resolveCaPair(file: ConfigFileContext) {
  return <T extends { ca?: string | undefined; caFile?: string | undefined }>(value: T, ctx: z.RefinementCtx): Omit<T, 'caFile'> => {
    const { caFile, ...rest } = value
    if (caFile === undefined) return rest
    if (value.ca !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['caFile'], message: 'set either ca or caFile, not both' })
      return z.NEVER
    }
    const pem = readConfigFile(file, caFile, ctx, 'caFile')
    const problem = pem === undefined ? undefined : pemProblem(pem)
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['caFile'], message: `${problem} in ${JSON.stringify(caFile)}` })
    return { ...rest, ca: pem }
  }
}
