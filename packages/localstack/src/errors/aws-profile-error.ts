import { LocalstackError } from './localstack-error.js'

/** `~/.aws/config` or `~/.aws/credentials` cannot be read, parsed or written. */
export class AwsProfileError extends LocalstackError {}
