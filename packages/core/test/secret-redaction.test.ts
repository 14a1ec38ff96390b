import { inspect } from 'node:util'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createReporter, describeApplyChange, HomelabError, HttpError, runSteps, runTask, Secret, type Step, type TaskIo } from '../src/index.js'

// Values that look like what the tool handles: a registry password, a Pi-hole password, a LocalStack token.
const VALUES = ['hunter2-registry-Pa55', 'pihole-S3cret!value', 'ls-token-0123456789abcdef']
const secrets = VALUES.map((v) => new Secret(v))

const capture = () => {
  let buf = ''
  return { text: () => buf, out: { write: (s: string) => void (buf += s) } }
}
const assertClean = (text: string, where: string) => {
  for (const v of VALUES) {
    assert.not.ok(text.includes(v), `${where} contains a secret value`)
    assert.not.ok(text.includes(encodeURIComponent(v)), `${where} contains a URL-encoded secret value`)
  }
}

/** A step that misuses secrets in every way a careless step could: in its diff, its summary, its error. */
function leakyStep(fail: boolean): Step<string, string> {
  return {
    name: `leaky ${fail ? 'failing' : 'changing'} step`,
    check: async () => {
      if (fail) throw new HttpError(`Pi-hole said: wrong password ${secrets[1]!.reveal()}`, { method: 'POST', url: 'http://pi/api/auth', cause: new Error(`body was {"password":"${secrets[1]!.reveal()}"}`) })
      return `user: admin\npassword: ${secrets[0]!.reveal()}\n`
    },
    desired: () => `user: admin\npassword: ${secrets[2]!.reveal()}\n`,
    diff: (a, b) => (a === b ? [] : [b]),
    apply: async () => {},
    describe: (c) => ({ summary: `set token ${secrets[2]!.reveal()}`, before: `password: ${secrets[0]!.reveal()}\n`, after: c }),
  }
}

const Redaction = suite('secret redaction')

Redaction('Secret renders as a mask through String, JSON, inspect and template literals', () => {
  const s = secrets[0]!
  for (const rendered of [String(s), JSON.stringify({ s }), inspect(s), inspect({ nested: { s } }), `${s}`, s + '']) {
    assertClean(rendered, rendered)
    assert.match(rendered, /\*\*\*\*/)
  }
  assert.is(s.reveal(), VALUES[0])
})

for (const json of [false, true]) {
  Redaction(`${json ? '--json' : 'human'} output of diffs, summaries and errors never shows a secret value`, async () => {
    const out = capture()
    await runSteps([leakyStep(false), leakyStep(true)], { title: 'scan', plan: json, reporter: createReporter({ json, out: out.out }) })
    assertClean(out.text(), json ? 'json output' : 'human output')
    assert.match(out.text(), /failed/)
  })
}

Redaction('thrown HomelabError messages are scrubbed, including URL-encoded values', () => {
  const e = new HomelabError(`PUT /api/config/dns/hosts/${encodeURIComponent(VALUES[1]!)} failed for ${VALUES[0]}`)
  assertClean(e.message, 'error message')
})

Redaction('a Secret diff shows which key changed but not its value', () => {
  const obj = (v: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'registry-auth', namespace: 'registry' }, data: { htpasswd: Buffer.from(v).toString('base64') } })
  const view = describeApplyChange({ op: 'update', object: obj(VALUES[2]!), before: obj(VALUES[0]!), after: obj(VALUES[2]!) })
  const text = JSON.stringify(view)
  assertClean(text, 'secret diff')
  for (const v of VALUES) assert.not.ok(text.includes(Buffer.from(v).toString('base64')), 'base64 of a secret in diff')
  assert.match(view.after ?? '', /htpasswd: "?\*\*\*\*/)
})

Redaction('our annotations on a Secret are masked in its diff (an old digest of a password no run knows); others are shown', () => {
  const oldDigest = 'c0ffee'.repeat(10)
  const obj = (digest: string) => ({
    apiVersion: 'v1', kind: 'Secret', data: { admin: 'YQ==' },
    metadata: { name: 'registry-credentials', namespace: 'registry', annotations: { 'homelab-devtools/htpasswd-verified': `{"admin":"${digest}"}`, 'example.org/owner': 'kim' } },
  })
  const view = describeApplyChange({ op: 'update', object: obj('beef'.repeat(16)), before: obj(oldDigest), after: obj('beef'.repeat(16)) })
  const text = JSON.stringify(view)
  assert.not.ok(text.includes(oldDigest), 'the old digest is shown')
  assert.not.ok(text.includes('beef'.repeat(16)), 'the new digest is shown')
  assert.match(view.before ?? '', /homelab-devtools\/htpasswd-verified: "?\*\*\*\*/)
  assert.match(view.before ?? '', /example\.org\/owner: kim/)
})

Redaction('runTask prints a failing task error through the reporter without the secret', async () => {
  const out = capture()
  const io: TaskIo = { argv: ['--json'], env: {}, cwd: '/', stdout: out.out, stderr: out.out, signal: new AbortController().signal }
  const code = await runTask({ name: 't', usage: 't', options: { json: { type: 'boolean' } } }, async () => Promise.reject(new Error(`token ${VALUES[2]} rejected`)), io)
  assert.is(code, 1)
  assertClean(out.text(), 'task error')
  assert.match(out.text(), /"event":"error"/)
})

// Values JSON escapes (quote, backslash, control characters) and a multi-line one the human reporter indents.
const AWKWARD = ['Tr0ub4dor"&3\\x', 'tab\there-and-bell\x07', 'line-one-secret\nline-two-secret']
const awkward = AWKWARD.map((v) => new Secret(v))

for (const json of [false, true]) {
  Redaction(`${json ? '--json' : 'human'} output hides secrets holding quotes, backslashes, control characters and newlines`, () => {
    const out = capture()
    const reporter = createReporter({ json, out: out.out })
    for (const s of awkward) {
      reporter.warn('step', `server said: login failed for ${s.reveal()}`)
      reporter.result({ step: 's', status: 'failed', error: `got ${s.reveal()}`, changes: [{ summary: `x ${s.reveal()}`, diff: `- ${s.reveal()}\n+ new` }], durationMs: 1 })
    }
    const text = out.text()
    for (const v of AWKWARD) {
      for (const part of v.split('\n')) assert.not.ok(text.includes(part), `output contains ${JSON.stringify(part)}`)
      assert.not.ok(text.includes(JSON.stringify(v).slice(1, -1)), `output contains the JSON-escaped ${JSON.stringify(v)}`)
    }
    assert.match(text, /\*\*\*\*/)
  })
}

Redaction('a secret that is a substring of another leaves no part of the longer one', () => {
  const short = new Secret('nested-token')
  const long = new Secret('nested-token-with-a-private-tail')
  for (const text of [`a ${long.reveal()} b`, `a ${short.reveal()} b ${long.reveal()}`]) {
    const scrubbed = new HomelabError(text).message
    assert.not.ok(scrubbed.includes('private-tail'), scrubbed)
    assert.not.ok(scrubbed.includes(short.reveal()), scrubbed)
  }
})

Redaction.run()
