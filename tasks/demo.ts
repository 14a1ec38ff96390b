// `pnpm demo`: a whole homelab on loopback (API server + controller, two Pi-holes, three K3s nodes), then the real
// pipeline: `pnpm turbo bootstrap` (preflight → registry → dns ∥ localstack → node-trust → verify), the same again to
// show changed=0, and `pnpm status`. Ends with where each service answers and how to try it.
import { COMMON_FLAGS, processIo, runTask } from '@homelab/core'
import { labOptionsFromEnv } from '@homelab/lab'
import { startLabHomelab } from './lab/lab-homelab.js'
import { pipelineTotal, runToolProcess } from './lab/run-tool-process.js'
import { demoSummary } from './lab/demo-summary.js'

const io = processIo()
process.exitCode = await runTask({ name: 'demo', usage: 'demo', options: COMMON_FLAGS }, async ({ reporter }) => {
  const homelab = await startLabHomelab({
    lab: labOptionsFromEnv(io.env),
    nodes: { count: 3, firstIp: '127.0.1.1' },
    piholeIps: ['127.0.4.1', '127.0.4.2'],
    onProgress: (m) => reporter.progress('lab', m),
  })
  const relay = (line: string) => void io.stdout.write(`${line}\n`)
  const config = ['--config', homelab.configPath]
  try {
    const stage = async (title: string, script: string, args: string[]) => {
      io.stdout.write(`\n== demo: ${title}\n`)
      return runToolProcess(script, [...args, ...config], { env: { ...io.env }, onLine: relay })
    }
    const first = await stage('pnpm turbo bootstrap (preflight, bootstrap, verify)', 'tasks/turbo-pipeline.ts', ['bootstrap'])
    const second = await stage('pnpm turbo bootstrap again: a converged homelab changes nothing', 'tasks/turbo-pipeline.ts', ['bootstrap'])
    const status = await stage('pnpm status', 'tasks/status.ts', [])
    const changedAgain = pipelineTotal(second.output)?.changed
    io.stdout.write(demoSummary(homelab, { first: first.code, second: second.code, changedAgain, status: status.code }))
    if (changedAgain !== 0) reporter.error(`the second bootstrap changed ${changedAgain ?? 'an unknown number of'} thing(s): it must change nothing`)
    return first.code === 0 && second.code === 0 && changedAgain === 0 && status.code === 0 ? 0 : 1
  } finally {
    // The Pi-hole doubles live in this process and go with it; the nodes, like the API server, stay for the summary's
    // commands until `pnpm lab down` (they are under the lab's state folder).
    await Promise.all(homelab.piholes.map((p) => p.stop()))
  }
}, io)
