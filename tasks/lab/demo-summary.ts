import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { labCaBundle } from '@homelab/lab'
import { TEST_IMAGE_PATH } from '@homelab/node-trust'
import type { LabHomelab } from './lab-homelab.js'

type Outcomes = { first: number; second: number; changedAgain: number | undefined; status: number }

/** The closing text of `pnpm demo`: what ran, where each service answers, and commands to try it by hand. */
export function demoSummary(homelab: LabHomelab, outcomes: Outcomes): string {
  const { domain, traefikIp, configPath } = homelab
  const state = homelab.lab.stateDir
  const caFile = join(state, 'homelab-ca.crt')
  // Every CA the lab's cert-manager issued, so the file works whichever issuer signed the route's certificate.
  writeFileSync(caFile, labCaBundle(state), { mode: 0o644 })
  const host = (name: string) => `${name}.${domain}`
  const resolve = (name: string) => `--resolve ${host(name)}:443:${traefikIp}`
  const node = homelab.nodes.nodes[0]!
  const ok = (code: number) => (code === 0 ? 'ok' : `exit ${code}`)
  return `
== demo: done
  first bootstrap: ${ok(outcomes.first)}   second bootstrap: ${ok(outcomes.second)}, changed=${outcomes.changedAgain ?? '?'}   status: ${ok(outcomes.status)}

  config      ${configPath}   (pass it with --config, e.g. pnpm turbo bootstrap --config ${configPath})
  kubeconfig  ${homelab.lab.kubeconfigPath}
  CA          ${caFile}

  registry     https://${host('registry')}      (Traefik on ${traefikIp}:443)
    password:  kubectl --kubeconfig ${homelab.lab.kubeconfigPath} -n registry get secret registry-credentials -o jsonpath='{.data.admin}' | base64 -d
    try:       curl --cacert ${caFile} ${resolve('registry')} -u admin https://${host('registry')}/v2/_catalog
    skopeo:    echo '${traefikIp} ${host('registry')}' >> /etc/hosts; mkdir -p /etc/containers/certs.d/${host('registry')} && cp ${caFile} /etc/containers/certs.d/${host('registry')}/ca.crt
               skopeo login -u admin ${host('registry')}; skopeo copy docker-archive:img.tar docker://${host('registry')}/me/img:1
    docker:    the same CA as /etc/docker/certs.d/${host('registry')}/ca.crt, then docker login ${host('registry')} -u admin
  registry UI  https://${host('registry-ui')}   curl --cacert ${caFile} ${resolve('registry-ui')} https://${host('registry-ui')}/
  LocalStack   https://${host('localstack')}    curl --cacert ${caFile} ${resolve('localstack')} https://${host('localstack')}/_localstack/health
    AWS:       pnpm --filter localstack run profile --config ${configPath}   then   aws --profile localstack s3 ls
               (profile "localstack": endpoint https://${host('localstack')}, the CA in ca_bundle; ${host('localstack')} must resolve to ${traefikIp})
  Pi-holes     ${homelab.piholes.map((p) => `${p.url} (DNS ${p.dnsAddress}:${p.dnsPort})`).join(', ')}
               (doubles in the demo's process: they answered during the runs above and stop with the demo)
  nodes        ${homelab.nodes.nodes.map((n) => `${n.host}:${n.port}`).join(', ')} (sshd + containerd each)
    try:       ssh -p ${node.port} -i ${homelab.nodes.clientKeyPath} -o UserKnownHostsFile=${homelab.nodes.knownHostsPath} root@${node.host} k3s crictl pull ${host('registry')}/${TEST_IMAGE_PATH}

  status: pnpm status --config ${configPath}   (its DNS checks fail once the demo's Pi-holes are gone)
  stop everything: pnpm lab down
`
}
