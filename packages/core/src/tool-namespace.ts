import { applyStep } from './kube/apply-step.js'
import type { Component } from './component.js'

/** The tool's own namespace: where it keeps what it must remember between runs (DNS ownership, the run lock). */
export const toolNamespace: Component = {
  name: 'homelab-devtools',
  bootstrap: async (ctx) => [
    applyStep(ctx.kube(), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ctx.config.kubernetes.namespace } }, { force: ctx.forceConflicts }),
  ],
}
