import { z } from 'zod'
import { buildConfigSchema } from './config-schema.js'

/**
 * JSON Schema of what `homelab.yaml` may contain, for editor completion (yaml-language-server). Draft 7, because
 * that is the draft every YAML editor plugin understands. Only the input side: no file is read to build it.
 */
export function configJsonSchema(): Record<string, unknown> {
  const schema = buildConfigSchema({ baseDir: '/', home: '/' })
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-7' }) as Record<string, unknown>
  return { ...json, title: 'homelab-devtools config (homelab.yaml)' }
}
