import { mkdirSync } from 'node:fs'
import { objectPath, type ClusterSnapshot } from './cluster-snapshot.js'
import type { ControllerContext } from './controller-context.js'
import { claimDir } from './controller-paths.js'
import { describeObject } from './kube-objects.js'
import { patchStatusIfChanged } from './object-status.js'

/**
 * local-path's provisioner, simplified: every claim is Bound at once to a folder in the state folder (no
 * PersistentVolume object, no WaitForFirstConsumer), with the capacity it asked for.
 */
export async function bindClaims(context: ControllerContext, snapshot: ClusterSnapshot): Promise<void> {
  for (const claim of snapshot.claims.values()) {
    const { namespace = 'default', name } = claim.metadata
    mkdirSync(claimDir(context.stateDir, namespace, name), { recursive: true })
    const storage = claim.spec?.resources?.requests?.storage
    const desired = { phase: 'Bound', accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'], ...(storage ? { capacity: { storage } } : {}) }
    await patchStatusIfChanged(context.client, objectPath('PersistentVolumeClaim', namespace, name), claim.status, desired)
      .catch((error: unknown) => context.log.failure(`claim ${namespace}/${name}`, `${describeObject(claim)}: cannot bind`, error))
  }
}
