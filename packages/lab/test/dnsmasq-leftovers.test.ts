import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { dnsmasqRecordDirs, startDnsmasq, stopDnsmasqsUnder, writeDnsmasqFiles } from '../src/pihole/pihole-dnsmasq.js'

// What a killed demo leaves: its Pi-hole doubles died with it, their detached dnsmasq did not.
const Leftovers = suite('dnsmasq left by a killed Pi-hole double')

const labDir = () => mkdtempSync(join(tmpdir(), 'lab-dnsmasq-'))
// This test process started it, so once stopped it stays a zombie until reaped: kill(pid, 0) would still succeed.
const running = (pid: number) => existsSync(`/proc/${pid}/stat`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))

Leftovers('a dnsmasq running on a folder under the lab state folder is stopped and named', async () => {
  const stateDir = labDir()
  const piholeDir = join(stateDir, 'pihole-1')
  mkdirSync(piholeDir)
  writeDnsmasqFiles(piholeDir, { hosts: ['127.0.2.1 registry.homelab.local'], cnameRecords: [] }, { hosts: true, cnames: true })
  await startDnsmasq({ stateDir: piholeDir, address: '127.0.4.91', port: 1053 })
  const pid = Number(readFileSync(join(piholeDir, 'dnsmasq.pid'), 'utf8'))
  try {
    assert.equal(await stopDnsmasqsUnder(stateDir), ['dnsmasq pihole-1'])
    assert.is(running(pid), false)
    assert.is(existsSync(join(piholeDir, 'dnsmasq.pid')), false)
  } finally {
    if (running(pid)) process.kill(pid, 'SIGKILL')
  }
})

Leftovers('a stale record naming a live process that is not that dnsmasq stops nothing', async () => {
  const stateDir = labDir()
  mkdirSync(join(stateDir, 'pihole-2'))
  writeFileSync(join(stateDir, 'pihole-2', 'dnsmasq.pid'), `${process.pid}\n`)
  assert.equal(await stopDnsmasqsUnder(stateDir), [])
  assert.is(running(process.pid), true)
})

Leftovers('records are found one and two folders down, not deeper', () => {
  const stateDir = labDir()
  for (const dir of ['pihole-1', 'homelab/pihole-2', 'a/b/pihole-3', 'nodes']) {
    mkdirSync(join(stateDir, dir), { recursive: true })
    if (dir !== 'nodes') writeFileSync(join(stateDir, dir, 'dnsmasq.pid'), '1\n')
  }
  assert.equal(dnsmasqRecordDirs(stateDir), [join(stateDir, 'homelab', 'pihole-2'), join(stateDir, 'pihole-1')])
})

Leftovers.run()
