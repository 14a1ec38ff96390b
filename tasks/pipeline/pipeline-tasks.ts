import { runComponentTask, type TaskIo } from '@homelab/core'
import { runDnsTask } from '@homelab/dns'
import { localstack } from '@homelab/localstack'
import { nodeTrust } from '@homelab/node-trust'
import { registry } from '@homelab/registry'
import { runPreflightTask } from '../runbooks/preflight-task.js'
import { runVerifyAllTask } from '../runbooks/verify-all-task.js'

export type TaskEntry = (io: TaskIo) => Promise<number>

/**
 * What each turbo task of the pipelines runs, callable in this process: the same function its package script's
 * `tasks/<verb>.ts` calls. A test holds this table to turbo.json and the package scripts, so neither can drift.
 * A task turbo names that is missing here (a package added later) still runs, as its own process.
 */
export const PIPELINE_TASK_ENTRIES: Readonly<Record<string, TaskEntry>> = {
  '//#preflight-cluster': (io) => runPreflightTask(io, 'cluster'),
  '//#preflight-nodes': (io) => runPreflightTask(io, 'nodes'),
  '//#verify-all': runVerifyAllTask,
  '@homelab/registry#bootstrap': (io) => runComponentTask([registry], 'bootstrap', io),
  '@homelab/registry#plan': (io) => runComponentTask([registry], 'plan', io),
  '@homelab/registry#verify': (io) => runComponentTask([registry], 'verify', io),
  '@homelab/dns#bootstrap': (io) => runDnsTask('sync', io),
  '@homelab/dns#plan': (io) => runDnsTask('plan', io),
  '@homelab/dns#verify': (io) => runDnsTask('verify', io),
  '@homelab/localstack#bootstrap': (io) => runComponentTask([localstack], 'bootstrap', io),
  '@homelab/localstack#plan': (io) => runComponentTask([localstack], 'plan', io),
  '@homelab/localstack#verify': (io) => runComponentTask([localstack], 'verify', io),
  '@homelab/node-trust#bootstrap': (io) => runComponentTask([nodeTrust], 'bootstrap', io),
  '@homelab/node-trust#plan': (io) => runComponentTask([nodeTrust], 'plan', io),
  '@homelab/node-trust#verify': (io) => runComponentTask([nodeTrust], 'verify', io),
}
