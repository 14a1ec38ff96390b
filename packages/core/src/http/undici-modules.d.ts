// The undici modules undici-agent.ts loads on their own: plain CommonJS, each exporting one value undici's own types
// describe.
declare module 'undici/lib/dispatcher/agent.js' {
  import { Agent } from 'undici'
  export default Agent
}
declare module 'undici/lib/dispatcher/dispatcher.js' {
  import { Dispatcher } from 'undici'
  export default Dispatcher
}
declare module 'undici/lib/api/api-request.js' {
  import { Dispatcher } from 'undici'
  const request: Dispatcher['request']
  export default request
}
