import type { RunProgram } from '../run-program.js'
import type { ControllerLog } from './controller-log.js'
import type { KubeRestClient } from './kube-rest-client.js'

/** What every part of the controller is handed: the API server, the state folder, the log, and how to run programs. */
export type ControllerContext = {
  client: KubeRestClient
  stateDir: string
  log: ControllerLog
  run: RunProgram
}
