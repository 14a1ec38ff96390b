import { LocalstackError } from './localstack-error.js'

/** `lambda.executor: host-socket`, but a node has no Docker socket for the pod to mount. */
export class DockerSocketError extends LocalstackError {}
