import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { debSrcFromOneLine, enableDebianSources, hasDebSrc, planDebianSources, type AptSourceFile } from '../src/debian-packages.js'

// Debian 12 cloud and container images: deb822.
const DEB822 = `Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`
// The installer and debootstrap: one-line sources.list, deb-src commented out, the install medium disabled.
const SOURCES_LIST = `#deb cdrom:[Debian GNU/Linux 12.5.0 _Bookworm_ - Official amd64 DVD Binary-1]/ bookworm contrib main
deb cdrom:[Debian GNU/Linux 12.5.0 _Bookworm_]/ bookworm main

deb http://deb.debian.org/debian/ bookworm main non-free-firmware
# deb-src http://deb.debian.org/debian/ bookworm main non-free-firmware

deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://security.debian.org/debian-security bookworm-security main
`

const Sources = suite('Debian source package lists')

const presentCases: [string, AptSourceFile[], boolean][] = [
  ['deb822 with only Types: deb has no deb-src', [{ name: 'sources.list.d/debian.sources', text: DEB822 }], false],
  ['a sources.list whose deb-src is commented out has none', [{ name: 'sources.list', text: SOURCES_LIST }], false],
  ['an active deb-src line in sources.list counts', [{ name: 'sources.list', text: `${SOURCES_LIST}deb-src http://deb.debian.org/debian bookworm main\n` }], true],
  ['a deb-src line in any sources.list.d/*.list counts', [{ name: 'sources.list', text: SOURCES_LIST }, { name: 'sources.list.d/src.list', text: '  deb-src http://m/debian bookworm main\n' }], true],
  ['a deb822 stanza typed "deb deb-src" counts', [{ name: 'sources.list.d/debian.sources', text: DEB822.replace('Types: deb\n', 'Types: deb deb-src\n') }], true],
  ['a deb822 deb-src stanza with Enabled: no does not', [{ name: 'sources.list.d/x.sources', text: 'Types: deb-src\nEnabled: no\nURIs: http://m/debian\n' }], false],
  ['no files at all have none', [], false],
]
for (const [name, files, want] of presentCases) Sources(name, () => assert.is(hasDebSrc(files), want))

Sources('sources.list: one deb-src per active deb line, options kept, cdrom and comments left out', () => {
  assert.is(debSrcFromOneLine(SOURCES_LIST), 'deb-src http://deb.debian.org/debian/ bookworm main non-free-firmware\n'
    + 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://security.debian.org/debian-security bookworm-security main\n')
})

Sources('deb822 debian.sources becomes debian-src.sources with every stanza typed deb-src', () => {
  const plan = planDebianSources([{ name: 'sources.list.d/debian.sources', text: DEB822 }])
  assert.equal(plan, { present: false, write: { name: 'sources.list.d/debian-src.sources', text: DEB822.replaceAll('Types: deb\n', 'Types: deb-src\n') } })
})

Sources('a sources.list system gets sources.list.d/debian-src.list, and sources.list is left alone', () => {
  const plan = planDebianSources([{ name: 'sources.list', text: SOURCES_LIST }, { name: 'sources.list.d/nodesource.list', text: 'deb https://deb.nodesource.com/node_20.x nodistro main\n' }])
  assert.is(plan.write?.name, 'sources.list.d/debian-src.list')
  assert.match(plan.write?.text ?? '', /^deb-src http:\/\/deb\.debian\.org\/debian\/ bookworm main non-free-firmware$/m)
  assert.not.match(plan.write?.text ?? '', /nodesource/)
})

Sources('with a deb-src already configured nothing is written', () => {
  assert.equal(planDebianSources([{ name: 'sources.list', text: 'deb-src http://m/debian bookworm main\n' }, { name: 'sources.list.d/debian.sources', text: DEB822 }]), { present: true })
})

Sources('with no deb entry anywhere there is nothing to derive', () => {
  assert.equal(planDebianSources([{ name: 'sources.list', text: '# empty\n' }]), { present: false })
})

Sources('enableDebianSources writes the file once and reports false the second time', () => {
  const aptDir = mkdtempSync(join(tmpdir(), 'lab-apt-'))
  mkdirSync(join(aptDir, 'sources.list.d'))
  writeFileSync(join(aptDir, 'sources.list'), SOURCES_LIST)
  assert.is(enableDebianSources(aptDir), true)
  assert.equal(readdirSync(join(aptDir, 'sources.list.d')), ['debian-src.list'])
  assert.is(readFileSync(join(aptDir, 'sources.list'), 'utf8'), SOURCES_LIST)
  assert.is(enableDebianSources(aptDir), false)
})

Sources.run()
