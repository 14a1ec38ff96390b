// `pnpm exec tsx bench/node-trust.ts [rounds]`: a no-op node-trust sync over 20 lab nodes against plain parallel
// `ssh node cat /etc/rancher/k3s/registries.yaml` to the same nodes, in the same run, rounds interleaved so both see
// the same machine load. Target: the sync costs at most 1.3× the plain-SSH time.
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { nodeTrust } from '@homelab/node-trust'
import { runTool, startNodeTrustLab } from '../packages/node-trust/test/fixtures/node-trust-lab.js'

const ROUNDS = Number(process.argv[2] ?? 5)
// Clear of the tests' addresses (.101+, .201–.227) and the demo's (.1+).
const env = await startNodeTrustLab({ name: 'node-trust-bench', count: 20, firstIp: '127.0.1.231', registryIp: '127.0.2.203' })

function sshCat(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const argv = ['-p', String(port), '-i', env.lab.clientKeyPath, '-o', `UserKnownHostsFile=${env.lab.knownHostsPath}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', `root@${host}`, 'cat', '/etc/rancher/k3s/registries.yaml']
    const child = spawn('ssh', argv, { stdio: ['ignore', 'ignore', 'inherit'] })
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ssh ${host} exited ${code}`))))
  })
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await run()
  return performance.now() - started
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

try {
  for (const node of env.lab.nodes) rmSync(join(node.etcRancher, 'k3s'), { recursive: true, force: true })
  const first = await runTool(nodeTrust, 'bootstrap', env.configPath)
  if (first.code !== 0) throw new Error(`the converging sync failed:\n${first.output}`)
  const sync: number[] = []
  const ssh: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    ssh.push(await timed(() => Promise.all(env.lab.nodes.map((n) => sshCat(n.host, n.port)))))
    sync.push(await timed(async () => {
      const run = await runTool(nodeTrust, 'bootstrap', env.configPath)
      if (run.code !== 0 || !/changed=0/.test(run.output)) throw new Error(`the no-op sync was not a no-op:\n${run.output}`)
    }))
  }
  const [s, p] = [median(sync), median(ssh)]
  process.stdout.write(`no-op sync, 20 nodes:            median ${s.toFixed(0)} ms  (rounds: ${sync.map((t) => t.toFixed(0)).join(', ')})\n`)
  process.stdout.write(`parallel ssh cat, 20 nodes:      median ${p.toFixed(0)} ms  (rounds: ${ssh.map((t) => t.toFixed(0)).join(', ')})\n`)
  process.stdout.write(`ratio sync / ssh: ${(s / p).toFixed(2)}x (target <= 1.3x)\n`)
} finally {
  await env.stop()
}
