import { StepSkipped, checkStep, type HomelabConfig, type Step } from '@homelab/core'
import { EditionError } from './errors/edition-error.js'

/** Said once per run in community mode: the pin is frozen, and how to move on. */
export const COMMUNITY_NOTICE =
  'LocalStack community 4.14.0 is the last image that starts without an auth token (26 Feb 2026): it gets no more updates or security fixes. ' +
  'To move on, set localstack.edition: token, localstack.authToken (or authTokenFile) and a pinned localstack.image such as localstack/localstack:2026.07.0.'

/** Throws when the config asks for an edition it cannot run; the reason names the key to set. */
export function checkEdition(localstack: HomelabConfig['localstack']): void {
  if (localstack.edition === 'token' && localstack.authToken === undefined) {
    throw new EditionError('localstack.edition is token, but no auth token is configured: LocalStack 2026.x images exit (code 55) without one', {
      key: 'localstack.authToken',
      hint: 'set localstack.authToken or localstack.authTokenFile (a LocalStack auth token), or go back to edition: community',
    })
  }
}

/** The first step of bootstrap and plan: everything else needs it, so a missing token stops the run before any apply. */
export function editionStep(config: HomelabConfig): Step<null, never> {
  return checkStep('localstack edition', async (ctx) => {
    if (!config.localstack.enabled) throw new StepSkipped('localstack.enabled is false')
    checkEdition(config.localstack)
    if (config.localstack.edition === 'community') ctx.warn(COMMUNITY_NOTICE)
  })
}
