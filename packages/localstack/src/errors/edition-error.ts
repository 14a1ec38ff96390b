import { LocalstackError } from './localstack-error.js'

/** The config asks for an edition it cannot run: the token edition without a token. */
export class EditionError extends LocalstackError {}
