import type { Extension, onAuthenticatePayload } from '@hocuspocus/server'
import { AccessDenied } from '../auth/roles.ts'
import type { Authenticator } from '../auth/authenticator.ts'
import type { Logger } from '../logger.ts'
import type { ConnectionContext } from '../types.ts'

/**
 * Where a connection is authorised: the token and the document name decide
 * the role and whether the connection is read-only. A refusal reaches the
 * client as the permission-denied reason (e.g. `token-expired`).
 */
export class Authorization implements Extension {
  extensionName = 'botsync-authorization'
  private readonly authenticator: Authenticator
  private readonly log: Logger

  constructor(authenticator: Authenticator, log: Logger) {
    this.authenticator = authenticator
    this.log = log
  }

  async onAuthenticate(payload: onAuthenticatePayload<ConnectionContext>): Promise<ConnectionContext> {
    try {
      const access = await this.authenticator.authorizeDocument(payload.token, payload.documentName)
      payload.connectionConfig.readOnly = access.readOnly
      return access
    } catch (error) {
      const reason = error instanceof AccessDenied ? error.reason : 'permission-denied'
      this.log.warn(
        { event: 'connection-refused', reason, document: payload.documentName.slice(0, 200), socket: payload.socketId },
        error instanceof Error ? error.message : String(error),
      )
      // A plain object (no `message`): Hocuspocus sends `reason` to the
      // client without logging it a second time.
      throw { reason }
    }
  }
}
