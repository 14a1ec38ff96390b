import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { Step } from '@homelab/core'
import { AwsProfileError } from './errors/aws-profile-error.js'
import { iniSectionText, mergeIniSection } from './merge-ini-section.js'
import { writeFileAtomic } from './write-file-atomic.js'

export type AwsProfileOptions = {
  /** The user's HOME, from the task's environment. */
  home: string
  /** Where the CLI reads its config (AWS_CONFIG_FILE); default ~/.aws/config. The CA bundle goes beside it. */
  configFile?: string | undefined
  /** Where the CLI reads its keys (AWS_SHARED_CREDENTIALS_FILE); default ~/.aws/credentials. */
  credentialsFile?: string | undefined
  profile: string
  endpointUrl: string
  region: string
  /** The CA to trust for the endpoint (mode ca); undefined when the system roots do. */
  caPem: () => Promise<string | undefined>
}

type FileChange = { path: string; before: string | undefined; after: string; shown: { before?: string; after: string } }

function readIfPresent(path: string): string | undefined {
  if (!existsSync(path)) return undefined
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new AwsProfileError(`cannot read ${path}: ${(error as Error).message}`, { path, cause: error })
  }
}

type FileStepInput = { name: string; path: string; needs?: string[]; section?: string; want: (current: string | undefined) => Promise<string | undefined> }

/** One file, changed only when its merged content differs; the diff shows our section only, never other profiles. */
function fileStep(input: FileStepInput): Step<string | undefined, FileChange, string | undefined> {
  let current: string | undefined
  return {
    name: input.name,
    ...(input.needs ? { needs: input.needs } : {}),
    check: async () => (current = readIfPresent(input.path)),
    desired: () => input.want(current),
    diff: (before, after) => (after === undefined || after === before ? [] : [{ path: input.path, before, after, shown: shownPart(input.section, before, after) }]),
    apply: async (changes) => {
      for (const change of changes) writeFileAtomic(change.path, change.after)
    },
    describe: (change) => ({ summary: `${change.before === undefined ? 'create' : 'update'} ${change.path}`, ...change.shown }),
  }
}

function shownPart(section: string | undefined, before: string | undefined, after: string): { before?: string; after: string } {
  if (section === undefined) return { after: '(the homelab CA certificate)\n' }
  const was = iniSectionText(before, section)
  return { ...(was === undefined ? {} : { before: was }), after: iniSectionText(after, section) ?? '' }
}

/**
 * `[profile <name>]` in the CLI's config file, `[<name>]` in its credentials file, and the CA bundle the profile points
 * at. A file that is a symlink (dotfiles kept in a repository) stays one: its target is what gets written.
 */
export function awsProfileSteps(options: AwsProfileOptions): Step<any, any, any>[] {
  const configPath = options.configFile ?? join(options.home, '.aws', 'config')
  const credentialsPath = options.credentialsFile ?? join(options.home, '.aws', 'credentials')
  const caPath = join(dirname(configPath), `${options.profile}-ca.pem`)
  let ca: Promise<string | undefined> | undefined
  const caPem = () => (ca ??= options.caPem())
  return [
    fileStep({ name: 'aws ca bundle', path: caPath, want: caPem }),
    fileStep({
      name: 'aws config profile',
      path: configPath,
      needs: ['aws ca bundle'],
      section: `profile ${options.profile}`,
      want: async (text) => {
        const entries: [string, string][] = [['region', options.region], ['endpoint_url', options.endpointUrl]]
        // Without a CA of ours (tls.mode acme) a ca_bundle left from an earlier run would point the CLI at a stale one.
        if ((await caPem()) === undefined) return mergeIniSection(text, `profile ${options.profile}`, entries, { remove: ['ca_bundle'] })
        return mergeIniSection(text, `profile ${options.profile}`, [...entries, ['ca_bundle', caPath]])
      },
    }),
    fileStep({
      name: 'aws credentials profile',
      path: credentialsPath,
      section: options.profile,
      // LocalStack's dummy keys: any non-AKIA key maps to account 000000000000 and the secret is ignored.
      want: async (text) => mergeIniSection(text, options.profile, [['aws_access_key_id', 'test'], ['aws_secret_access_key', 'test']]),
    }),
  ]
}
