// Writes homelab.schema.json at the repo root (editor completion for homelab.yaml). Re-run after a schema change.
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { configJsonSchema } from '../src/index.js'

const target = fileURLToPath(new URL('../../../homelab.schema.json', import.meta.url))
writeFileSync(target, `${JSON.stringify(configJsonSchema(), null, 2)}\n`)
console.log(`wrote ${target}`)
