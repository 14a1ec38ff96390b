import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'

export type DscFile = { name: string; size: number; sha256: string }

/** Size and sha256 of a file on disk; undefined when it does not exist. */
export type FileFacts = { size: number; sha256: string } | undefined

/** Pure. The files a Debian source control file (.dsc) lists under `Checksums-Sha256:`, in its order. */
export function dscSha256Files(dsc: string): DscFile[] {
  const lines = dsc.split('\n')
  const start = lines.findIndex((line) => /^Checksums-Sha256:\s*$/i.test(line))
  if (start === -1) return []
  const files: DscFile[] = []
  for (const line of lines.slice(start + 1)) {
    // A deb822 field's continuation lines start with white space; the next field (or a blank line) ends it.
    if (!/^[ \t]/.test(line)) break
    const match = /^\s+([0-9a-f]{64})\s+(\d+)\s+(\S+)\s*$/i.exec(line)
    if (match) files.push({ sha256: match[1]!.toLowerCase(), size: Number(match[2]), name: match[3]! })
  }
  return files
}

/**
 * Pure. Whether a .dsc was downloaded whole: a signed one ends with its signature, and any one lists the upstream
 * tarball. apt can leave a cut-off file under its final name when a download is stopped.
 */
export function dscIsComplete(dsc: string): boolean {
  if (dsc.startsWith('-----BEGIN PGP SIGNED MESSAGE-----') && !dsc.includes('-----END PGP SIGNATURE-----')) return false
  return dscSha256Files(dsc).some((file) => isOrigTarball(file.name))
}

export const isOrigTarball = (name: string) => /\.orig\.tar\.(gz|xz|bz2)$/.test(name)

/** Pure. What is wrong with a downloaded file against its .dsc entry, or undefined when it matches. */
export function sourceFileProblem(want: DscFile, have: FileFacts): string | undefined {
  if (have === undefined) return `${want.name} is missing`
  if (have.size !== want.size) return `${want.name} has ${have.size} bytes, the .dsc says ${want.size} (an interrupted download?)`
  if (have.sha256 !== want.sha256) return `${want.name} has sha256 ${have.sha256}, the .dsc says ${want.sha256}`
  return undefined
}

function fileFacts(path: string): FileFacts {
  if (!existsSync(path)) return undefined
  return { size: statSync(path).size, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') }
}

export type SourcePackageCheck = {
  /** The upstream tarball, present and matching its .dsc; undefined when there is none such. */
  tarball: string | undefined
  /** With no good tarball: every file of the source package found, to delete before downloading it whole again. */
  stale: string[]
  problems: string[]
}

/** Checks every `<source>_*.dsc` in `dir` and the upstream tarball it lists (size and sha256). */
export function checkSourcePackage(dir: string, source: string): SourcePackageCheck {
  const files = readdirSync(dir).filter((entry) => entry.startsWith(`${source}_`)).sort()
  const dscs = files.filter((entry) => entry.endsWith('.dsc'))
  const problems = dscs.length === 0 ? [`no ${source}_*.dsc in ${dir}`] : []
  for (const dscName of dscs) {
    const dsc = readFileSync(join(dir, dscName), 'utf8')
    if (!dscIsComplete(dsc)) {
      problems.push(`${dscName} is cut off or lists no upstream tarball`)
      continue
    }
    const orig = dscSha256Files(dsc).find((file) => isOrigTarball(file.name))!
    const problem = sourceFileProblem(orig, fileFacts(join(dir, orig.name)))
    if (problem === undefined) return { tarball: orig.name, stale: [], problems: [] }
    problems.push(problem)
  }
  // Without a .dsc that vouches for it, a tarball may be cut off too: start over.
  return { tarball: undefined, stale: files, problems }
}

/** Deletes what `checkSourcePackage` found stale, so `apt-get source` fetches the package whole. */
export function removeStaleSourceFiles(dir: string, check: SourcePackageCheck): void {
  for (const name of check.stale) rmSync(join(dir, name), { force: true })
}
