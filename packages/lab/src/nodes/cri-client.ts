import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'

/** The CRI v1 proto inside the kubernetes source package the lab already unpacks for kube-apiserver. */
export function criProtoPaths(kubernetesSource: string): { proto: string; includeDir: string } {
  return {
    proto: join(kubernetesSource, 'staging', 'src', 'k8s.io', 'cri-api', 'pkg', 'apis', 'runtime', 'v1', 'api.proto'),
    // api.proto imports gogo.proto from the vendored tree.
    includeDir: join(kubernetesSource, 'vendor'),
  }
}

type Callback<T> = (error: grpc.ServiceError | null, value: T) => void
type Unary<Req, Res> = (request: Req, options: { deadline: Date }, done: Callback<Res>) => void

type ImageService = grpc.Client & {
  PullImage: Unary<{ image: { image: string } }, { image_ref: string }>
  ListImages: Unary<Record<string, never>, { images: { id: string; repo_tags: string[] }[] }>
}
type RuntimeService = grpc.Client & { Version: Unary<{ version: string }, { runtime_name: string; runtime_version: string; runtime_api_version: string }> }

export type CriClient = {
  pullImage(ref: string): Promise<string>
  listImages(): Promise<string[]>
  version(): Promise<string>
  close(): void
}

const call = <Req, Res>(method: Unary<Req, Res>, client: grpc.Client, request: Req, timeoutMs: number): Promise<Res> =>
  new Promise((resolve, reject) => method.call(client, request, { deadline: new Date(Date.now() + timeoutMs) }, (error, value) => (error ? reject(error) : resolve(value))))

/** The same two CRI services `crictl` talks to, on a containerd socket (`/…/containerd.sock`). */
export async function openCriClient(options: { kubernetesSource: string; socket: string; timeoutMs?: number }): Promise<CriClient> {
  const { proto, includeDir } = criProtoPaths(options.kubernetesSource)
  const definition = await protoLoader.load(proto, { includeDirs: [includeDir], keepCase: true, longs: String, enums: String, defaults: true })
  const runtime = grpc.loadPackageDefinition(definition) as unknown as { runtime: { v1: Record<'ImageService' | 'RuntimeService', grpc.ServiceClientConstructor> } }
  const address = `unix://${options.socket}`
  const credentials = grpc.credentials.createInsecure()
  const images = new runtime.runtime.v1.ImageService(address, credentials) as unknown as ImageService
  const runtimeService = new runtime.runtime.v1.RuntimeService(address, credentials) as unknown as RuntimeService
  const timeoutMs = options.timeoutMs ?? 120_000
  return {
    pullImage: async (ref) => (await call(images.PullImage, images, { image: { image: ref } }, timeoutMs)).image_ref,
    listImages: async () => (await call(images.ListImages, images, {}, timeoutMs)).images.flatMap((i) => i.repo_tags),
    version: async () => {
      const v = await call(runtimeService.Version, runtimeService, { version: 'v1' }, timeoutMs)
      return `${v.runtime_name} ${v.runtime_version} (CRI ${v.runtime_api_version})`
    },
    close: () => {
      images.close()
      runtimeService.close()
    },
  }
}

/** crictl's own wording for a failed call, so tools that parse crictl output read ours the same way. */
export function crictlErrorText(error: unknown): string {
  const e = error as Partial<grpc.ServiceError>
  const code = e.code === undefined ? 'Unknown' : (grpc.status[e.code] ?? String(e.code))
  const pretty = code.charAt(0) + code.slice(1).toLowerCase().replace(/_(.)/g, (_m, c: string) => c.toUpperCase())
  return `rpc error: code = ${pretty} desc = ${e.details ?? (error as Error).message}`
}
