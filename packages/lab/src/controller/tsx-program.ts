import { fileURLToPath } from 'node:url'

/** A lab program written in TypeScript (`packages/lab/tasks/<name>.ts`), as argv for this very Node with tsx loaded. */
export function tsxProgramArgv(task: string, args: readonly string[] = []): string[] {
  const script = fileURLToPath(new URL(`../../tasks/${task}.ts`, import.meta.url))
  // An absolute loader URL: the program's working folder need not be inside the repo.
  return [process.execPath, '--import', import.meta.resolve('tsx'), script, ...args]
}
