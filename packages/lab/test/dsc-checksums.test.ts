import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { checkSourcePackage, dscIsComplete, dscSha256Files, removeStaleSourceFiles, sourceFileProblem, type DscFile, type FileFacts } from '../src/dsc-checksums.js'

const ORIG = 'kubernetes_1.20.5+really1.20.2.orig.tar.gz'
const DEBIAN = 'kubernetes_1.20.5+really1.20.2-1.1+deb12u1.debian.tar.xz'
const DSC_NAME = 'kubernetes_1.20.5+really1.20.2-1.1+deb12u1.dsc'
const sha = (text: string) => createHash('sha256').update(text).digest('hex')

// The shape of Debian 12's kubernetes .dsc, with the checksums of small stand-in files.
const dscFor = (orig: string, debian: string) => `-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA512

Format: 3.0 (quilt)
Source: kubernetes
Checksums-Sha1:
 06d562409795c779a4826a71e50228f6eb969493 ${orig.length} ${ORIG}
Checksums-Sha256:
 ${sha(orig)} ${orig.length} ${ORIG}
 ${sha(debian)} ${debian.length} ${DEBIAN}
Files:
 20b98978e86e1e783dd226ce966a85e8 ${orig.length} ${ORIG}

-----BEGIN PGP SIGNATURE-----

iQIzBAEBCgAdFiEEBdtqg34QX0sdAsVfu6n6rcz7RwcFAmhtmP8ACgkQu6n6rcz7
=LU4o
-----END PGP SIGNATURE-----
`
const ORIG_TEXT = 'upstream tarball stand-in\n'
const DEBIAN_TEXT = 'debian folder stand-in\n'
const DSC = dscFor(ORIG_TEXT, DEBIAN_TEXT)

const Parse = suite('.dsc Checksums-Sha256')

Parse('lists every Checksums-Sha256 file with size and sum, and nothing from Checksums-Sha1 or Files', () => {
  assert.equal(dscSha256Files(DSC), [
    { sha256: sha(ORIG_TEXT), size: ORIG_TEXT.length, name: ORIG },
    { sha256: sha(DEBIAN_TEXT), size: DEBIAN_TEXT.length, name: DEBIAN },
  ])
})

const cut = DSC.slice(0, DSC.indexOf(DEBIAN) - 20)
const completeCases: [string, string, boolean][] = [
  ['a whole signed .dsc is complete', DSC, true],
  ['a .dsc cut off inside Checksums-Sha256 is not', cut, false],
  ['a signed .dsc without its signature end is not', DSC.slice(0, DSC.indexOf('-----END PGP')), false],
  ['an unsigned .dsc listing the upstream tarball is', DSC.slice(DSC.indexOf('Format:'), DSC.indexOf('-----BEGIN PGP SIGNATURE')), true],
  ['a .dsc cut off before Checksums-Sha256 is not', DSC.slice(0, DSC.indexOf('Checksums-Sha256')), false],
  ['an empty file is not', '', false],
]
for (const [name, text, want] of completeCases) Parse(name, () => assert.is(dscIsComplete(text), want))

const want: DscFile = { name: ORIG, size: 34_428_927, sha256: 'b'.repeat(64) }
const problemCases: [string, FileFacts, RegExp | undefined][] = [
  ['a file of the right size and sum has no problem', { size: 34_428_927, sha256: 'b'.repeat(64) }, undefined],
  ['a cut-off download (563 KB under the final name) is named with both sizes', { size: 563_000, sha256: 'c'.repeat(64) }, /563000 bytes, the \.dsc says 34428927/],
  ['a file of the right size with another sum is named with both sums', { size: 34_428_927, sha256: 'c'.repeat(64) }, /sha256 c+, the \.dsc says b+/],
  ['a missing file is named', undefined, /is missing/],
]
for (const [name, have, problem] of problemCases) {
  Parse(name, () => {
    const got = sourceFileProblem(want, have)
    if (problem === undefined) assert.is(got, undefined)
    else assert.match(got ?? '', problem)
  })
}

Parse.run()

const Folder = suite('kubernetes source download folder')

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'lab-dsc-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

Folder('a complete download is used as it is and nothing is marked for deletion', () => {
  const dir = folder({ [DSC_NAME]: DSC, [ORIG]: ORIG_TEXT, [DEBIAN]: DEBIAN_TEXT })
  assert.equal(checkSourcePackage(dir, 'kubernetes'), { tarball: ORIG, stale: [], problems: [] })
})

Folder('a cut-off tarball is refused, and removing the stale files leaves the folder empty for apt-get source', () => {
  const dir = folder({ [DSC_NAME]: DSC, [ORIG]: ORIG_TEXT.slice(0, 5), [DEBIAN]: DEBIAN_TEXT, 'kubernetes-notes.txt': 'not ours' })
  const check = checkSourcePackage(dir, 'kubernetes')
  assert.is(check.tarball, undefined)
  assert.match(check.problems.join('\n'), /has 5 bytes/)
  removeStaleSourceFiles(dir, check)
  assert.equal(readdirSync(dir), ['kubernetes-notes.txt'])
})

Folder('a tarball without a .dsc is not trusted', () => {
  const dir = folder({ [ORIG]: ORIG_TEXT })
  const check = checkSourcePackage(dir, 'kubernetes')
  assert.equal([check.tarball, check.stale], [undefined, [ORIG]])
  assert.match(check.problems.join('\n'), /no kubernetes_\*\.dsc/)
})

Folder('a cut-off .dsc is refused even when the tarball beside it is whole', () => {
  const dir = folder({ [DSC_NAME]: cut, [ORIG]: ORIG_TEXT })
  const check = checkSourcePackage(dir, 'kubernetes')
  assert.equal([check.tarball, check.stale], [undefined, [DSC_NAME, ORIG]])
})

Folder.run()
