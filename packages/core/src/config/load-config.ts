import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { basename, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isMap, LineCounter, parseDocument, type Document } from 'yaml'
import { ConfigError } from '../errors/config-error.js'
import { buildConfigSchema, type HomelabConfig } from './config-schema.js'
import type { ConfigFileContext } from './config-file-fields.js'
import { applyEnvOverrides, CONFIG_PATH_VARIABLE } from './env-overrides.js'
import { configErrorMap, formatConfigIssues } from './format-config-issues.js'

/** The example doubles as the defaults when no homelab.yaml exists, so it always validates. */
export const EXAMPLE_CONFIG_PATH = fileURLToPath(new URL('../../../../homelab.example.yaml', import.meta.url))
export const CONFIG_FILE_NAME = 'homelab.yaml'

export type Env = Readonly<Record<string, string | undefined>>

export type LoadConfigOptions = {
  /** From `--config`; wins over HOMELAB_CONFIG, which wins over `<cwd>/homelab.yaml`. */
  configPath?: string | undefined
  cwd: string
  env: Env
}

/** Which file `loadConfig` reads: the named one, `<cwd>/homelab.yaml`, or the example's defaults. */
export function resolveConfigFile(options: LoadConfigOptions): { path: string; source: 'argument' | 'env' | 'cwd' | 'example' } {
  if (options.configPath) return { path: resolve(options.cwd, options.configPath), source: 'argument' }
  const fromEnv = options.env[CONFIG_PATH_VARIABLE]
  if (fromEnv) return { path: resolve(options.cwd, fromEnv), source: 'env' }
  const local = resolve(options.cwd, CONFIG_FILE_NAME)
  return existsSync(local) ? { path: local, source: 'cwd' } : { path: EXAMPLE_CONFIG_PATH, source: 'example' }
}

/** Reads, overrides from `env`, and validates the config. Every problem, together, in one ConfigError. */
export function loadConfig(options: LoadConfigOptions): HomelabConfig {
  const { path } = resolveConfigFile(options)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message
    throw new ConfigError([`${path}: cannot read the config file: ${reason}`], { path, cause: error, hint: 'copy homelab.example.yaml to homelab.yaml' })
  }
  return parseConfig(text, { sourceName: path, baseDir: dirname(path), env: options.env })
}

export type ParseConfigOptions = {
  /** Named in messages (`homelab.yaml:3:7`). */
  sourceName: string
  /** Where relative `*File` paths point. */
  baseDir: string
  env: Env
}

/** Validates config text; for callers that already hold the YAML (tests, `--config -`). */
export function parseConfig(text: string, options: ParseConfigOptions): HomelabConfig {
  const lineCounter = new LineCounter()
  const document = parseDocument(text, { lineCounter, prettyErrors: false })
  const shortName = basename(options.sourceName)
  if (document.errors.length > 0) {
    const issues = document.errors.map((e) => {
      const { line, col } = lineCounter.linePos(e.pos[0])
      return `${shortName}:${line}:${col}: YAML syntax error: ${e.message.split('\n')[0]}`
    })
    throw new ConfigError(issues, { path: options.sourceName })
  }
  const data = topLevelMapping(document, options.sourceName)
  const file: ConfigFileContext = { baseDir: options.baseDir, home: options.env.HOME ?? homedir(), sshAuthSock: options.env.SSH_AUTH_SOCK }
  const schema = buildConfigSchema(file)
  const overrides = applyEnvOverrides(data, options.env, Object.keys(schema.in.shape))
  const result = schema.safeParse(data, { error: configErrorMap })
  const locate = (path: readonly PropertyKey[]) => locateKey(document, lineCounter, shortName, path)
  const issues = [...overrides.issues, ...(result.success ? [] : formatConfigIssues(result.error.issues, { schema, env: overrides.origins, locate }))]
  if (issues.length > 0 || !result.success) throw new ConfigError(issues, { path: options.sourceName })
  return result.data
}

function topLevelMapping(document: Document, sourceName: string): Record<string, unknown> {
  if (document.contents === null) return {}
  if (!isMap(document.contents)) throw new ConfigError([`${basename(sourceName)}: expected a mapping of settings at the top level`], { path: sourceName })
  try {
    // Aliases are capped so a "billion laughs" file fails fast instead of eating memory.
    return document.toJS({ maxAliasCount: 100 }) as Record<string, unknown>
  } catch (error) {
    throw new ConfigError([`${basename(sourceName)}: ${(error as Error).message}`], { path: sourceName, cause: error })
  }
}

function locateKey(document: Document, lineCounter: LineCounter, shortName: string, path: readonly PropertyKey[]): string | undefined {
  for (let depth = path.length; depth > 0; depth--) {
    const node = document.getIn(path.slice(0, depth) as unknown[], true) as { range?: [number, number, number] } | undefined
    if (node?.range) {
      const { line, col } = lineCounter.linePos(node.range[0])
      return `${shortName}:${line}:${col}`
    }
  }
  return undefined
}
