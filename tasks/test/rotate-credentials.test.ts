import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Secret } from '@homelab/core'
import { loginRefused, type RegistryEndpoint } from '../runbooks/registry-endpoint.js'

const Rotate = suite('rotate-credentials: hints and resumption')

const endpoint = (htpasswdSecret: string) => ({ host: 'registry.homelab.local', htpasswdSecret }) as RegistryEndpoint
const login = { username: 'admin', password: new Secret('old-password-never-shown-42') }

Rotate('an old password still accepted points at the htpasswd Secret the registry mounts, by its configured name', () => {
  const error = loginRefused(endpoint('registry/my-htpasswd'), login, 'rejected')
  assert.match(error.message, /still accepted/)
  assert.match(error.message, /Secret registry\/my-htpasswd was updated/)
  assert.not.match(error.message, /registry-auth/)
  assert.not.match(error.message, /old-password-never-shown-42/)
  assert.match(loginRefused(endpoint('registry/my-htpasswd'), login, 'accepted').message, /registry\/my-htpasswd/)
})

Rotate.run()
