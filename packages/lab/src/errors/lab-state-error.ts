import { LabError, type LabErrorContext } from './lab-error.js'

/** The lab cannot start or stop because of what it found: a busy port, a folder it does not own, a missing file. */
export class LabStateError extends LabError {
  constructor(message: string, context: LabErrorContext = {}) {
    super(message, context)
  }
}
