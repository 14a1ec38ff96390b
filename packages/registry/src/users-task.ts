import { acquireRunLock, openToolContext, resolveConfigFile, runTask, Secret, type RunLock, type TaskIo } from '@homelab/core'
import { writePasswordFile } from './password-file.js'
import { parseUsersCommand, passwordLocation, runUsersCommand, storedNotLive, USERS_FLAGS, USERS_USAGE, type UsersFlags } from './registry-users.js'

/**
 * The whole `users` task on a TaskIo, so tests run it in-process. `readStdin` is only called with --password-stdin.
 * The reporter masks every secret value, so the one output that must show a password (--show-password, on request)
 * is written to io.stdout directly.
 */
export function usersTask(io: TaskIo, readStdin: () => Promise<string>): Promise<number> {
  return runTask({ name: 'registry users', usage: USERS_USAGE, options: USERS_FLAGS, positionals: true }, async ({ flags: parsed, positionals, reporter }) => {
    const flags = parsed as UsersFlags
    // One trailing newline is what `echo` and most password managers add; it is not part of the password.
    const stdinPassword = flags['password-stdin'] ? new Secret((await readStdin()).replace(/\r?\n$/, '')) : undefined
    const command = parseUsersCommand(positionals, stdinPassword)
    const ctx = openToolContext({ flags, reporter, env: io.env, cwd: io.cwd, signal: io.signal })
    // The registry's lock, as its bootstrap and gc take it: a bootstrap beside this would write the users it read before.
    let lock: RunLock | undefined
    try {
      if (!ctx.plan) lock = await acquireRunLock(ctx.kube(), { namespace: ctx.config.kubernetes.namespace, name: 'registry', task: `registry users ${command.verb} ${command.name}` })
      const configFile = resolveConfigFile({ configPath: flags.config, cwd: io.cwd, env: io.env })
      const outcome = await runUsersCommand(ctx, command, { configFile, env: io.env })
      const chosenByUser = command.verb === 'add' && stdinPassword !== undefined
      const failed = outcome.run.failed > 0
      // Once stored, the new password is the one every later run keeps, even if a step after it failed: hand it over.
      if (failed && outcome.stored) reporter.warn(undefined, storedNotLive(ctx.config.registry, outcome.name))
      if (!outcome.password || (failed && !outcome.stored) || ctx.plan || chosenByUser) return outcome.run
      if (flags['password-file']) writePasswordFile(flags['password-file'], outcome.password)
      if (flags['show-password']) io.stdout.write(`${outcome.name}: ${outcome.password.reveal()}\n`)
      if (!flags['password-file'] && !flags['show-password'] && !failed) reporter.warn(undefined, passwordLocation(ctx.config.registry, outcome.name))
      return outcome.run
    } finally {
      await lock?.release().catch(() => undefined)
      await ctx.close()
    }
  }, io)
}
