import { inflateRawSync } from 'node:zlib'
import { LabError } from '../errors/lab-error.js'

const END_OF_CENTRAL_DIRECTORY = 0x06054b50
const CENTRAL_FILE_HEADER = 0x02014b50
const LOCAL_FILE_HEADER = 0x04034b50

/**
 * The files of a zip held in memory (a Lambda `ZipFile`), by name. Stored and deflated entries only: that is what
 * every zip tool writes for source files. Read through the central directory, since local headers may leave sizes out.
 */
export function readZipEntries(zip: Buffer): Map<string, Buffer> {
  const end = findEndOfCentralDirectory(zip)
  const count = zip.readUInt16LE(end + 10)
  let at = zip.readUInt32LE(end + 16)
  const files = new Map<string, Buffer>()
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== CENTRAL_FILE_HEADER) throw new LabError(`zip: central directory entry ${i} is damaged`)
    const method = zip.readUInt16LE(at + 10)
    const compressedSize = zip.readUInt32LE(at + 20)
    const nameLength = zip.readUInt16LE(at + 28)
    const extraLength = zip.readUInt16LE(at + 30)
    const commentLength = zip.readUInt16LE(at + 32)
    const localHeader = zip.readUInt32LE(at + 42)
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength)
    if (!name.endsWith('/')) files.set(name, entryData(zip, localHeader, compressedSize, method, name))
    at += 46 + nameLength + extraLength + commentLength
  }
  return files
}

function findEndOfCentralDirectory(zip: Buffer): number {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  for (let at = zip.length - 22; at >= Math.max(0, zip.length - 22 - 0xffff); at--) {
    if (zip.readUInt32LE(at) === END_OF_CENTRAL_DIRECTORY) return at
  }
  throw new LabError('zip: no end-of-central-directory record; the upload is not a zip file')
}

function entryData(zip: Buffer, localHeader: number, compressedSize: number, method: number, name: string): Buffer {
  if (zip.readUInt32LE(localHeader) !== LOCAL_FILE_HEADER) throw new LabError(`zip: local header of ${name} is damaged`)
  const start = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28)
  const data = zip.subarray(start, start + compressedSize)
  if (method === 0) return Buffer.from(data)
  if (method === 8) return inflateRawSync(data)
  throw new LabError(`zip: ${name} uses compression method ${method}; only stored (0) and deflate (8) are read`)
}
