import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Secret } from '@homelab/core'
import { reportHookErrors } from '@homelab/lab'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  buildImage, createDistributionClient, failureHint, pullImage, pushImage, RegistryError, sha256Digest, tarArchive, tinyImage, type DistributionClient,
} from '../src/index.js'
import { registryInLab, type LabRegistry } from './fixtures/registry-in-lab.js'
import { startLocalRegistry, type LocalRegistry } from './fixtures/local-registry.js'

type Ctx = { lab: LabRegistry; admin: DistributionClient; local: LocalRegistry; printed: string[] }
const Client = suite<Ctx>('Distribution client against real registries (the lab behind Traefik, and a local one)', {} as Ctx)

Client.before(reportHookErrors(async (ctx) => {
  ctx.lab = await registryInLab('reg-client')
  ctx.admin = await ctx.lab.client('admin')
  ctx.local = await startLocalRegistry({ relativeUrls: true, readOnly: false })
  ctx.printed = []
}))

Client.after(async (ctx) => {
  await ctx.admin?.close()
  await ctx.local?.stop()
  await ctx.lab?.stop()
})

Client('ping: 401 without credentials, 200 with them, over TLS trusting only the homelab CA', async (ctx) => {
  const anonymous = createDistributionClient({ baseUrl: `https://${ctx.lab.host}`, ca: await ctx.lab.caPem(), resolve: { [ctx.lab.host]: ctx.lab.traefikIp } })
  assert.is(await anonymous.ping().finally(() => anonymous.close()), 401)
  assert.is(await ctx.admin.ping(), 200)
})

Client('uploadBlob follows the absolute Location the registry sends; blobExists and getBlob give back the bytes', async (ctx) => {
  const bytes = Buffer.from(`a blob for ${ctx.lab.ns}\n`)
  assert.not.ok(await ctx.admin.blobExists('test/blobs', sha256Digest(bytes)))
  const uploaded = await ctx.admin.uploadBlob('test/blobs', bytes)
  assert.equal(uploaded, { digest: sha256Digest(bytes), size: bytes.length })
  assert.ok(await ctx.admin.blobExists('test/blobs', uploaded.digest))
  assert.ok((await ctx.admin.getBlob('test/blobs', uploaded.digest)).equals(bytes))
})

Client('putManifest, then getManifest by tag and by digest, headManifest, tags and catalog agree', async (ctx) => {
  const image = tinyImage(ctx.lab.ns)
  const pushed = await pushImage(ctx.admin, 'test/app', '1.0', image)
  assert.is(pushed.digest, image.manifest.digest, 'the registry stores the OCI manifest as sent')
  assert.equal([pushed.uploaded, pushed.present], [2, 0])
  assert.is((await pushImage(ctx.admin, 'test/app', '1.1', image)).present, 2, 'a second push finds every blob present')
  const byTag = await ctx.admin.getManifest('test/app', '1.0')
  assert.is(byTag.digest, image.manifest.digest)
  assert.is(byTag.mediaType, image.manifest.mediaType)
  assert.ok((await ctx.admin.getManifest('test/app', image.manifest.digest)).bytes.equals(image.manifest.bytes))
  assert.equal(await ctx.admin.headManifest('test/app', '1.1'), { digest: image.manifest.digest, mediaType: image.manifest.mediaType, size: image.manifest.size })
  assert.equal((await ctx.admin.tags('test/app')).sort(), ['1.0', '1.1'])
  assert.ok((await ctx.admin.catalog()).includes('test/app'))
  const pulled = await pullImage(ctx.admin, 'test/app', image.manifest.digest)
  assert.ok(pulled.blobs.get(image.layers[0]!.digest)?.equals(image.layers[0]!.bytes))
})

Client('deleteManifest by digest removes the manifest and every tag on it', async (ctx) => {
  const image = tinyImage(`${ctx.lab.ns} delete`)
  const { digest } = await pushImage(ctx.admin, 'test/delete', 'gone', image)
  await ctx.admin.deleteManifest('test/delete', digest)
  assert.is(await ctx.admin.headManifest('test/delete', digest), undefined)
  assert.is(await ctx.admin.headManifest('test/delete', 'gone'), undefined)
})

Client('a refused password is a RegistryError 401 whose hint names registry.users, never the password', async (ctx) => {
  const password = 'not-the-password-of-ci-1'
  const client = createDistributionClient({ baseUrl: `https://${ctx.lab.host}`, ca: await ctx.lab.caPem(), resolve: { [ctx.lab.host]: ctx.lab.traefikIp }, auth: { username: 'ci', password: new Secret(password) } })
  assert.is(await client.ping(), 401, 'ping reports the status')
  try {
    await client.tags('test/app')
    assert.unreachable()
  } catch (error) {
    assert.instance(error, RegistryError)
    const e = error as RegistryError
    assert.is(e.status, 401)
    assert.is(e.code, 'UNAUTHORIZED')
    assert.match(e.message, /GET https:\/\/reg-client-.*\/v2\/test\/app\/tags\/list/, e.message)
    assert.match(e.message, /registry\.users/)
    assert.not.ok(e.message.includes(password))
    ctx.printed.push(e.message)
  } finally {
    await client.close()
  }
})

Client('a missing manifest is a RegistryError with the registry code MANIFEST_UNKNOWN', async (ctx) => {
  try {
    await ctx.admin.getManifest('test/app', 'no-such-tag')
    assert.unreachable()
  } catch (error) {
    assert.instance(error, RegistryError)
    assert.is((error as RegistryError).code, 'MANIFEST_UNKNOWN')
    assert.match((error as Error).message, /no such manifest/)
  }
})

Client('names outside the repository grammar are refused before any request', async (ctx) => {
  for (const bad of ['Upper/case', '../etc', 'a//b']) {
    try {
      await ctx.admin.tags(bad)
      assert.unreachable()
    } catch (error) {
      assert.instance(error, TypeError)
    }
  }
})

Client('uploadBlob follows a relative Location (http.relativeurls: true)', async (ctx) => {
  const client = createDistributionClient({ baseUrl: ctx.local.url })
  const image = buildImage([{ 'base.txt': 'base layer\n' }, { 'top.txt': 'top layer\n' }])
  const { digest } = await pushImage(client, 'local/app', 'v1', image)
  const pulled = await pullImage(client, 'local/app', digest)
  assert.ok(pulled.manifest.bytes.equals(image.manifest.bytes))
  assert.is(pulled.blobs.size, 3)
  await client.close()
})

Client('a write to a read-only registry is a RegistryError 405 that says a GC run holds it', async (ctx) => {
  const readOnly = await startLocalRegistry({ storage: ctx.local.storage, relativeUrls: true, readOnly: true })
  const client = createDistributionClient({ baseUrl: readOnly.url })
  try {
    assert.ok((await client.tags('local/app')).includes('v1'), 'reads still work')
    await client.uploadBlob('local/app', Buffer.from('refused'))
    assert.unreachable()
  } catch (error) {
    assert.instance(error, RegistryError)
    assert.is((error as RegistryError).status, 405)
    assert.match((error as Error).message, /read-only .*GC run/)
    assert.match((error as Error).message, /pnpm --filter registry run gc/)
  } finally {
    await client.close()
    await readOnly.stop()
  }
})

Client('getBlob refuses bytes that do not match the digest (a blob damaged on disk)', async (ctx) => {
  const client = createDistributionClient({ baseUrl: ctx.local.url })
  const { digest } = await client.uploadBlob('local/damaged', Buffer.from('intact content\n'))
  const hex = digest.slice('sha256:'.length)
  writeFileSync(join(ctx.local.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data'), 'tampered content\n')
  try {
    await client.getBlob('local/damaged', digest)
    assert.unreachable()
  } catch (error) {
    assert.instance(error, RegistryError)
    assert.match((error as Error).message, /came back with other content/)
  } finally {
    await client.close()
  }
})

const hints: [string, string, number | undefined, string | undefined, RegExp | undefined][] = [
  ['401 names the users and the credentials Secret', 'GET', 401, 'UNAUTHORIZED', /registry\.users.*credentialsSecretName/],
  ['405 on a write says read-only and GC', 'PUT', 405, 'UNSUPPORTED', /read-only.*gc/],
  ['405 on DELETE also names storage.delete', 'DELETE', 405, 'UNSUPPORTED', /storage\.delete\.enabled/],
  ['405 on a read is not about read-only', 'GET', 405, undefined, undefined],
  ['404 NAME_UNKNOWN is a missing repository', 'GET', 404, 'NAME_UNKNOWN', /no such repository/],
  ['404 BLOB_UNKNOWN is a missing blob', 'HEAD', 404, 'BLOB_UNKNOWN', /no such blob/],
  ['5xx points at the registry log', 'GET', 503, undefined, /logs deploy\/registry/],
  ['no answer at all leaves it to the connection message', 'GET', undefined, undefined, undefined],
]
for (const [name, method, status, code, hint] of hints) {
  Client(`failureHint: ${name}`, () => {
    const text = failureHint(method, status, code)
    if (hint) assert.match(text ?? '', hint)
    else assert.is(text, undefined)
  })
}

Client('tarArchive writes a tar that GNU tar lists and extracts byte for byte; buildImage is deterministic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tar-'))
  const files = { 'hello.txt': 'hello\n', 'dir/nested.bin': Buffer.alloc(700, 7) }
  writeFileSync(join(dir, 'layer.tar'), tarArchive(files))
  const listed = spawnSync('tar', ['-tf', join(dir, 'layer.tar')], { encoding: 'utf8' })
  assert.equal(listed.stdout.trim().split('\n'), ['dir/nested.bin', 'hello.txt'])
  assert.is(spawnSync('tar', ['-xf', join(dir, 'layer.tar'), '-C', dir]).status, 0)
  assert.equal(readdirSync(join(dir, 'dir')), ['nested.bin'])
  assert.is(spawnSync('cmp', [join(dir, 'hello.txt'), '-'], { input: 'hello\n' }).status, 0)
  assert.is(buildImage([files]).manifest.digest, buildImage([files]).manifest.digest)
  assert.is.not(tinyImage('a').manifest.digest, tinyImage('b').manifest.digest)
})

Client('nothing printed or raised holds a password', async (ctx) => {
  const admin = (await ctx.lab.password('admin')).reveal()
  for (const text of ctx.printed) assert.not.ok(text.includes(admin))
  assert.ok(ctx.printed.length > 0)
})

Client.run()
