// undici's index loads all of undici (fetch, WebSocket, its cache, the mocks) before anything runs: about three times
// as long as what the tool uses, which is an Agent and its request(). This wires those two the way the index does.
import Agent from 'undici/lib/dispatcher/agent.js'
import Dispatcher from 'undici/lib/dispatcher/dispatcher.js'
import request from 'undici/lib/api/api-request.js'

// What undici's index does for every dispatcher (`Object.assign(Dispatcher.prototype, api)`), for the one call used.
;(Dispatcher.prototype as { request?: unknown }).request ??= request

export { Agent }
