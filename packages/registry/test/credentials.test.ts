import { MANAGED_BY, parseConfig, type KubeClient, type KubeObject } from '@homelab/core'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { RegistryCredentialsError, resolveRegistryCredentials, SECRET_ROLE_LABEL } from '../src/index.js'

// ---- pure: working out the passwords from Secrets a fake API server holds -----------------------------------------

const OURS = 'homelab-devtools'
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64')
const text = (o: KubeObject, key: string) => Buffer.from(((o['data'] ?? {}) as Record<string, string>)[key] ?? '', 'base64').toString('utf8')

const credentialsSecret = (name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name,
    namespace: 'registry',
    labels: { 'app.kubernetes.io/name': 'registry', ...MANAGED_BY, [SECRET_ROLE_LABEL]: 'credentials' },
    managedFields: [{ manager: OURS, operation: 'Apply' }],
  },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
})

/** Reads only: get and list over a fixed set of objects. Any write would throw (the fake has none). */
function fakeKube(objects: KubeObject[]): KubeClient {
  const matches = (o: KubeObject, selector?: string) =>
    !selector || selector.split(',').every((term) => {
      const [k, v] = term.split('=')
      return o.metadata.labels?.[k!] === v
    })
  return {
    server: 'fake',
    fieldManager: OURS,
    get: async (ref: { kind: string; name: string; namespace?: string }) => objects.find((o) => o.kind === ref.kind && o.metadata.name === ref.name && o.metadata.namespace === ref.namespace),
    list: async (_apiVersion: string, kind: string, options?: { namespace?: string; labelSelector?: string }) =>
      objects.filter((o) => o.kind === kind && (!options?.namespace || o.metadata.namespace === options.namespace) && matches(o, options?.labelSelector)),
  } as unknown as KubeClient
}

const registryConfig = (auth: string) =>
  parseConfig(`domain: home.arpa\nregistry:\n  users: [{name: admin}, {name: carol}]\n  auth:\n${auth}`, { sourceName: 'x.yaml', baseDir: '/tmp', env: {} }).registry

const Resolve = suite('registry credentials after credentialsSecretName is renamed')

Resolve('one old credentials Secret of ours: its passwords carry into the new one', async () => {
  const kube = fakeKube([credentialsSecret('registry-credentials', { admin: 'old-admin-pass-1', carol: 'old-carol-pass-1' })])
  const resolved = await resolveRegistryCredentials(kube, registryConfig('    credentialsSecretName: creds-b\n'))
  assert.equal(resolved.generated, [])
  assert.equal([text(resolved.credentialsSecret, 'admin'), text(resolved.credentialsSecret, 'carol')], ['old-admin-pass-1', 'old-carol-pass-1'])
})

Resolve('two old credentials Secrets of ours (a rename interrupted, then another): refused, naming both and how to delete one', async () => {
  const kube = fakeKube([
    credentialsSecret('registry-credentials', { admin: 'a-admin-pass-1', carol: 'a-carol-pass-1' }),
    credentialsSecret('creds-b', { admin: 'b-admin-pass-2', carol: 'b-carol-pass-2' }),
  ])
  try {
    await resolveRegistryCredentials(kube, registryConfig('    credentialsSecretName: creds-c\n'))
    assert.unreachable('passwords were worked out over two old Secrets')
  } catch (e) {
    assert.instance(e, RegistryCredentialsError)
    const message = (e as Error).message
    assert.match(message, /registry\/creds-c does not exist yet/)
    assert.match(message, /\(creds-b, registry-credentials\)/)
    assert.match(message, /kubectl -n registry delete secret creds-b; kubectl -n registry delete secret registry-credentials/)
    for (const value of ['a-admin-pass-1', 'a-carol-pass-1', 'b-admin-pass-2', 'b-carol-pass-2']) assert.not.ok(message.includes(value), 'a password is in the message')
  }
})

Resolve('two old credentials Secrets while the configured one exists: its passwords are used, nothing is refused', async () => {
  const kube = fakeKube([
    credentialsSecret('registry-credentials', { admin: 'a-admin-pass-1', carol: 'a-carol-pass-1' }),
    credentialsSecret('creds-b', { admin: 'b-admin-pass-2', carol: 'b-carol-pass-2' }),
    credentialsSecret('creds-c', { admin: 'c-admin-pass-3', carol: 'c-carol-pass-3' }),
  ])
  const resolved = await resolveRegistryCredentials(kube, registryConfig('    credentialsSecretName: creds-c\n'))
  assert.equal([resolved.generated, text(resolved.credentialsSecret, 'carol')], [[], 'c-carol-pass-3'])
})

Resolve.run()
