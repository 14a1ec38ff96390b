import { createHash, randomBytes } from 'node:crypto'
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3'
import { awsCall, expectThat, withResources, type SmokeRun } from './smoke-run.js'

// Several MB: large enough to cross Traefik's buffering and any body-size limit a single small PUT would not.
const OBJECT_BYTES = 5 * 1024 * 1024
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex')

/** Bucket → put a multi-MB object → get it back byte for byte → list → delete both. */
export function smokeS3(run: SmokeRun): Promise<void> {
  const { s3 } = run.aws
  const Bucket = `${run.prefix}-bucket`
  const Key = 'smoke/object.bin'
  const call = <T>(operation: string, fn: () => Promise<T>) => awsCall(run, 'S3', operation, fn)
  return withResources(run, async (resources) => {
    await call('CreateBucket', () => run.aws.once.s3.send(new CreateBucketCommand({ Bucket })))
    resources.created(`bucket ${Bucket}`, () => s3.send(new DeleteBucketCommand({ Bucket })))
    const body = randomBytes(OBJECT_BYTES)
    await call('PutObject', () => s3.send(new PutObjectCommand({ Bucket, Key, Body: body, ContentType: 'application/octet-stream' })))
    resources.created(`object ${Bucket}/${Key}`, () => s3.send(new DeleteObjectCommand({ Bucket, Key })))
    const got = await call('GetObject', async () => (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body?.transformToByteArray())
    expectThat(got !== undefined && got.length === OBJECT_BYTES && sha256(got) === sha256(body), 'S3', 'GetObject', `the object came back different (${got?.length ?? 0} of ${OBJECT_BYTES} bytes, or other bytes)`)
    const listed = await call('ListObjectsV2', () => s3.send(new ListObjectsV2Command({ Bucket })))
    expectThat(listed.Contents?.some((o) => o.Key === Key && o.Size === OBJECT_BYTES) === true, 'S3', 'ListObjectsV2', `${Key} is not listed with ${OBJECT_BYTES} bytes`)
    await call('DeleteObject', () => s3.send(new DeleteObjectCommand({ Bucket, Key })))
    resources.deleted(`object ${Bucket}/${Key}`)
    await call('DeleteBucket', () => s3.send(new DeleteBucketCommand({ Bucket })))
    resources.deleted(`bucket ${Bucket}`)
  })
}
