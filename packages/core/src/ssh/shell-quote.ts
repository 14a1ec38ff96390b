/*
 * A remote exec is one string that the node's login shell splits again, so every argument is quoted here.
 * Single quotes stop all expansion; only a single quote itself needs the close-escape-reopen dance.
 */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/

export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new TypeError('a shell argument cannot contain a NUL byte')
  return SAFE.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`
}

export function shellJoin(argv: readonly string[]): string {
  if (argv.length === 0) throw new TypeError('a remote command needs at least one argument')
  return argv.map(shellQuote).join(' ')
}
