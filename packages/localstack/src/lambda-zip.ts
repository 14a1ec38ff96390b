/*
 * A zip of a few small files, built in memory for Lambda's CreateFunction. Entries are stored, not compressed: a
 * handler of a few hundred bytes gains nothing from deflate, and stored entries need no library.
 */

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

export function crc32(data: Buffer): number {
  let crc = 0xffffffff
  for (const byte of data) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

// 1980-01-01 00:00 in DOS format: a fixed time keeps the bytes the same for the same files.
const DOS_DATE = (0 << 9) | (1 << 5) | 1

type Entry = { name: Buffer; data: Buffer; crc: number; offset: number }

function localHeader(e: Entry): Buffer {
  const h = Buffer.alloc(30)
  h.writeUInt32LE(0x04034b50, 0)
  h.writeUInt16LE(20, 4) // version needed: 2.0
  h.writeUInt16LE(0x0800, 6) // names are UTF-8
  h.writeUInt16LE(DOS_DATE, 12)
  h.writeUInt32LE(e.crc, 14)
  h.writeUInt32LE(e.data.length, 18)
  h.writeUInt32LE(e.data.length, 22)
  h.writeUInt16LE(e.name.length, 26)
  return Buffer.concat([h, e.name, e.data])
}

function centralHeader(e: Entry): Buffer {
  const h = Buffer.alloc(46)
  h.writeUInt32LE(0x02014b50, 0)
  h.writeUInt16LE(0x0314, 4) // made by: Unix, 2.0
  h.writeUInt16LE(20, 6)
  h.writeUInt16LE(0x0800, 8)
  h.writeUInt16LE(DOS_DATE, 14)
  h.writeUInt32LE(e.crc, 16)
  h.writeUInt32LE(e.data.length, 20)
  h.writeUInt32LE(e.data.length, 24)
  h.writeUInt16LE(e.name.length, 28)
  h.writeUInt32LE((0o100644 << 16) >>> 0, 38) // a regular file, rw-r--r--
  h.writeUInt32LE(e.offset, 42)
  return Buffer.concat([h, e.name])
}

/** Files by name (sorted, so the same files give the same bytes) → the zip's bytes. */
export function zipFiles(files: Readonly<Record<string, string | Buffer>>): Buffer {
  let offset = 0
  const entries: Entry[] = []
  const locals: Buffer[] = []
  for (const name of Object.keys(files).sort()) {
    const data = Buffer.from(files[name]!)
    const entry = { name: Buffer.from(name, 'utf8'), data, crc: crc32(data), offset }
    const local = localHeader(entry)
    entries.push(entry)
    locals.push(local)
    offset += local.length
  }
  const central = Buffer.concat(entries.map(centralHeader))
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(central.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, central, end])
}
