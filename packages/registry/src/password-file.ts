import { openSync, closeSync, writeSync, fchmodSync } from 'node:fs'
import type { Secret } from '@homelab/core'

/**
 * Writes a password for the user to pick up, readable by the owner only. The mode is set on the open descriptor
 * before the value is written, so there is no moment when another user could read it.
 */
export function writePasswordFile(path: string, password: Secret): void {
  const fd = openSync(path, 'w', 0o600)
  try {
    fchmodSync(fd, 0o600)
    writeSync(fd, `${password.reveal()}\n`)
  } finally {
    closeSync(fd)
  }
}
