import type { Server } from 'node:http'
import dynalite from 'dynalite'
import { listenOn, type RunningEmulator } from './emulator-server.js'

/** DynamoDB on dynalite 4.0.0, in memory (LocalStack community keeps no state across restarts either). */
export function startDynamodbEmulator(ip: string): Promise<RunningEmulator> {
  // Short table transitions: a waiter sees CREATING then ACTIVE without the lab's tests waiting half a second each.
  const server = dynalite({ createTableMs: 50, deleteTableMs: 50, updateTableMs: 50 }) as Server
  return listenOn('dynamodb', server, ip)
}
