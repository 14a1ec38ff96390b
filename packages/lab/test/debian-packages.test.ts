// ensureDebianPackages on a machine it must not change beyond the packages: no service of theirs started or enabled.
// A recording stand-in for apt, dpkg and systemctl: what a real install would do to a machine is not done here.
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ensureDebianPackages } from '../src/index.js'
import type { RunProgram } from '../src/run-program.js'

const Install = suite('installing the lab\'s Debian packages starts and enables none of their services')

type Machine = { run: RunProgram; calls: string[][]; policyDuringInstall: (string | undefined)[]; policyRcPath: string }

/** A machine where `installed` are installed; apt-get install fails when `failInstall`. */
function machine(installed: readonly string[], options: { failInstall?: boolean } = {}): Machine {
  const policyRcPath = join(mkdtempSync(join(tmpdir(), 'policy-rc-')), 'policy-rc.d')
  const calls: string[][] = []
  const policyDuringInstall: (string | undefined)[] = []
  const run: RunProgram = async (argv) => {
    calls.push([...argv])
    if (argv[0] === 'dpkg-query') return { code: 0, stdout: installed.map((p) => `${p} install ok installed\n`).join(''), stderr: '' }
    if (argv.includes('install')) {
      policyDuringInstall.push(existsSync(policyRcPath) ? readFileSync(policyRcPath, 'utf8') : undefined)
      if (options.failInstall) throw new Error('apt-get install failed (exit 100)')
    }
    return { code: 0, stdout: '', stderr: '' }
  }
  return { run, calls, policyDuringInstall, policyRcPath }
}

Install('missing packages go in under a policy-rc.d that refuses every start, which goes after; systemd disables their services', async () => {
  const m = machine(['jq'])
  const result = await ensureDebianPackages(['docker-registry', 'jq', 'etcd-server', 'rsync'], { run: m.run, policyRcPath: m.policyRcPath, systemd: true })
  assert.equal(result.installed, ['docker-registry', 'etcd-server', 'rsync'])
  assert.is(m.policyDuringInstall.length, 1)
  assert.match(m.policyDuringInstall[0]!, /^#!\/bin\/sh\n.*\nexit 101\n$/)
  assert.not.ok(existsSync(m.policyRcPath), 'the lab\'s policy-rc.d is gone once the install ended')
  const install = m.calls.find((argv) => argv.includes('install'))!
  assert.ok(install.includes('DPkg::Lock::Timeout=600'), 'waits for a dpkg lock apt-daily holds')
  assert.equal(m.calls.at(-1), ['systemctl', 'disable', '--now', 'docker-registry.service', 'etcd.service'], 'only what this install brought, and only packages with a service')
})

Install('a policy-rc.d someone else put there stays exactly as it was; without systemd nothing is disabled', async () => {
  const m = machine([])
  writeFileSync(m.policyRcPath, '#!/bin/sh\n# the admin\'s own\nexit 101\n', { mode: 0o700 })
  await ensureDebianPackages(['containerd', 'openssh-server'], { run: m.run, policyRcPath: m.policyRcPath, systemd: false })
  assert.equal(m.policyDuringInstall, ['#!/bin/sh\n# the admin\'s own\nexit 101\n'])
  assert.is(readFileSync(m.policyRcPath, 'utf8'), '#!/bin/sh\n# the admin\'s own\nexit 101\n')
  assert.is(statSync(m.policyRcPath).mode & 0o777, 0o700)
  assert.not.ok(m.calls.some((argv) => argv[0] === 'systemctl'))
})

Install('a failed install still takes the lab\'s policy-rc.d away, and one an interrupted install left is known and removed', async () => {
  const failing = machine([], { failInstall: true })
  await ensureDebianPackages(['docker-registry'], { run: failing.run, policyRcPath: failing.policyRcPath, systemd: true }).then(
    () => assert.unreachable('the install failed'),
    (error: Error) => assert.match(error.message, /apt-get install failed/),
  )
  assert.not.ok(existsSync(failing.policyRcPath))
  assert.not.ok(failing.calls.some((argv) => argv[0] === 'systemctl'), 'nothing installed, nothing to disable')
  const leftover = machine([])
  writeFileSync(leftover.policyRcPath, '#!/bin/sh\n# homelab lab: no service starts while it installs packages\nexit 101\n', { mode: 0o755 })
  await ensureDebianPackages(['dnsmasq-base'], { run: leftover.run, policyRcPath: leftover.policyRcPath, systemd: true })
  assert.not.ok(existsSync(leftover.policyRcPath))
  assert.not.ok(leftover.calls.some((argv) => argv[0] === 'systemctl'), 'dnsmasq-base has no service')
})

Install('everything there already: dpkg-query only, no policy-rc.d written', async () => {
  const m = machine(['docker-registry'])
  assert.equal(await ensureDebianPackages(['docker-registry'], { run: m.run, policyRcPath: m.policyRcPath, systemd: true }), { installed: [] })
  assert.equal(m.calls.map((argv) => argv[0]), ['dpkg-query'])
  assert.not.ok(existsSync(m.policyRcPath))
})

Install.run()
