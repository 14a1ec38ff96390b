import { LocalstackError } from './localstack-error.js'

/** `/_localstack/health` answered, but not what the config wants (a service missing, another version). */
export class HealthError extends LocalstackError {}
