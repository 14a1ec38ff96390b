// The shared lab's API server, for cases that do not stop it: a kube client and a namespace of the suite's own.
import { createKubeClient, type KubeClient } from '@homelab/core'
import { labOptionsFromEnv, useLab } from '@homelab/lab'

export type LabKube = { kubeconfigPath: string; stateDir: string; kube: KubeClient }

export async function useLabKube(fieldManager = 'reliability-suite'): Promise<LabKube> {
  const lab = await useLab(labOptionsFromEnv(process.env))
  return { kubeconfigPath: lab.kubeconfigPath, stateDir: lab.stateDir, kube: createKubeClient({ kubeconfigPath: lab.kubeconfigPath, fieldManager }) }
}

/** A unique, valid namespace name per run, so a shared lab keeps other tests' objects apart from ours. */
export const uniqueName = (prefix: string) => `${prefix}-${Date.now().toString(36)}`

export const deleteNamespace = (kube: KubeClient | undefined, name: string | undefined) =>
  name && kube ? kube.delete({ apiVersion: 'v1', kind: 'Namespace', name }) : Promise.resolve()
