import { closestMatch } from './config-issue-text.js'

/*
 * Names operators type from other tools' configs (ssh_config, kubeconfig, docker login...) for keys this schema spells
 * differently. Edit distance cannot find these: `hostname` is six edits from `host`. Each alias lists the keys it may
 * mean, most likely first; only a key that exists where the alias was written is ever suggested.
 */
const KEY_ALIASES: Readonly<Record<string, readonly string[]>> = {
  hostname: ['host', 'url'],
  ip: ['host', 'url'],
  address: ['host', 'url', 'ip'],
  addr: ['host', 'url', 'ip'],
  server: ['host', 'url'],
  endpoint: ['url', 'host'],
  uri: ['url'],
  username: ['user', 'name'],
  login: ['user', 'name'],
  user: ['name'],
  pass: ['password', 'sudoPassword'],
  passwd: ['password', 'sudoPassword'],
  pwd: ['password', 'sudoPassword'],
  password: ['sudoPassword'],
  token: ['authToken', 'password'],
  apitoken: ['authToken', 'password'],
  apikey: ['authToken', 'password'],
  key: ['keyFile'],
  sshkey: ['keyFile'],
  privatekey: ['keyFile'],
  identityfile: ['keyFile'],
  insecure: ['insecureSkipTlsVerify'],
  skiptlsverify: ['insecureSkipTlsVerify'],
  insecureskipverify: ['insecureSkipTlsVerify'],
  cacert: ['ca'],
  cacertfile: ['caFile'],
  ns: ['namespace'],
  type: ['role'],
  basedomain: ['domain'],
}

// `ssh_key`, `api-key` and `apiKey` are one alias.
const aliasForm = (key: string) => key.toLowerCase().replace(/[-_]/g, '')

/** The key meant by `word`, among the keys valid at its path: a known alias first, else a near miss. */
export function suggestKey(word: string, known: readonly string[]): string | undefined {
  const meant = KEY_ALIASES[aliasForm(word)]?.find((candidate) => known.includes(candidate))
  return meant ?? closestMatch(word, known)
}
