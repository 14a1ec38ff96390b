// s3rver and dynalite ship no types; only what the lab's LocalStack double calls is declared.
declare module 's3rver' {
  export default class S3rver {
    constructor(options: Record<string, unknown>)
    run(): Promise<unknown>
  }
}

declare module 'dynalite' {
  export default function dynalite(options?: Record<string, unknown>): unknown
}
