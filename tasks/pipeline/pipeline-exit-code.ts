import { EXIT } from '@homelab/core'

/**
 * Pure. The pipeline's exit code, whoever ran its tasks: 130 when interrupted (whatever the tasks or turbo said: turbo
 * exits 0 after Ctrl-C though its task exited 130), 0 when no task failed, the failed tasks' code when they agree
 * (3 for drift), else 1.
 */
export function pipelineExitCode(failedCodes: readonly number[], interrupted: boolean): number {
  if (interrupted) return EXIT.interrupted
  const codes = [...new Set(failedCodes.filter((c) => c !== 0))]
  return codes.length === 0 ? EXIT.ok : codes.length === 1 ? codes[0]! : EXIT.failed
}

// turbo's line for a task that failed: `@homelab/dns#bootstrap:  ERROR  command (/…/packages/dns) … exited (3)`.
// A task's own lines carry `package:task:`, never `#`, so its output cannot be taken for one.
const TASK_FAILED = /^(\S+#\S+):\s+ERROR\s+command \(.*\) .* exited \((\d+)\)\s*$/
const ANSI = /\x1b\[[0-9;]*m/g

/** Pure. The task and exit code turbo reports in a line of its output, if the line says a task failed. */
export function turboTaskFailure(line: string): { taskId: string; code: number } | undefined {
  const match = TASK_FAILED.exec(line.replace(ANSI, ''))
  return match ? { taskId: match[1]!, code: Number(match[2]) } : undefined
}

/**
 * Pure. The exit code of a run turbo ran task by task (--separate-processes): by the pipeline's rule from the failures
 * turbo reported (its own code is the highest failed task's, and 0 after Ctrl-C); turbo's own when it reported none
 * and was not interrupted (a flag it rejected).
 */
export function separateProcessesExitCode(turboExit: number, failedCodes: readonly number[], interrupted: boolean): number {
  return failedCodes.length > 0 || interrupted ? pipelineExitCode(failedCodes, interrupted) : turboExit
}
