import { crictlErrorText, openCriClient } from './cri-client.js'
import { NODE_PATHS, type LabNodeSpec } from './lab-node-layout.js'
import type { NodeProgramIo } from './node-systemctl.js'

/**
 * `k3s crictl …` on a lab node: the CRI calls crictl makes, on the node's containerd socket. `pull` takes no
 * credentials, as `k3s crictl pull` on a node does: containerd finds them in the config K3s rendered.
 */
export async function runCrictl(spec: LabNodeSpec, args: readonly string[], io: NodeProgramIo): Promise<number> {
  const [verb, ref] = args.filter((a) => !a.startsWith('-'))
  const cri = await openCriClient({ kubernetesSource: spec.kubernetesSource, socket: NODE_PATHS.containerdSocket })
  try {
    if (verb === 'pull' && ref) io.stdout(`Image is up to date for ${await cri.pullImage(ref)}\n`)
    else if (verb === 'version') io.stdout(`${await cri.version()}\n`)
    else if (verb === 'images') io.stdout(`${(await cri.listImages()).join('\n')}\n`)
    else return io.stderr(`lab crictl: ${verb ?? '(nothing)'} is not simulated (pull REF, version, images)\n`), 1
    return 0
  } catch (error) {
    const what = verb === 'pull' ? `pulling image "${ref}"` : verb
    io.stderr(`E ${new Date().toISOString()} ${what} failed: ${crictlErrorText(error)}\n`)
    return 1
  } finally {
    cri.close()
  }
}

/** `k3s <sub> …`: only `crictl` is simulated. */
export function runK3s(spec: LabNodeSpec, args: readonly string[], io: NodeProgramIo): Promise<number> {
  if (args[0] === 'crictl') return runCrictl(spec, args.slice(1), io)
  io.stderr(`lab k3s: only \`k3s crictl\` is simulated on ${spec.nodeName}\n`)
  return Promise.resolve(1)
}
