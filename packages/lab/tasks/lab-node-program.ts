// The node-side programs of a lab node (`systemctl`, `k3s`, `crictl`), run by the shims bind-mounted on the node's
// PATH: `lab-node-program.ts <node.json> <program> args…`. Runs inside the node's mount namespace.
import { readFileSync } from 'node:fs'
import type { LabNodeSpec } from '../src/nodes/lab-node-layout.js'
import { runCrictl, runK3s } from '../src/nodes/node-crictl.js'
import { runSystemctl } from '../src/nodes/node-systemctl.js'

const [specPath, program, ...args] = process.argv.slice(2)
const spec = JSON.parse(readFileSync(specPath ?? '', 'utf8')) as LabNodeSpec
const io = { stdout: (t: string) => void process.stdout.write(t), stderr: (t: string) => void process.stderr.write(t) }
const run = program === 'systemctl' ? runSystemctl : program === 'k3s' ? runK3s : program === 'crictl' ? runCrictl : undefined
try {
  process.exitCode = run ? await run(spec, args, io) : (io.stderr(`unknown lab node program ${program}\n`), 1)
} catch (error) {
  io.stderr(`${program}: ${(error as Error).message}\n`)
  process.exitCode = 1
}
