import nodemailer from 'nodemailer'
import type { InviteKind } from '@botsync/shared-docs'
import type { Logger } from '../logger.ts'

export interface InviteMail {
  to: string
  url: string
  kind: InviteKind
  spaceName: string
  role: string
  expiresAt: number
}

/** Sends one-time links by email. */
export interface InviteMailer {
  send(mail: InviteMail): Promise<void>
}

/**
 * SMTP_URL set: a nodemailer transport (smtp:// or smtps://, credentials in
 * the URL) sending from SMTP_FROM; unset: null, and owners copy the link.
 */
export function createInviteMailer(options: { smtpUrl?: string; from?: string }): InviteMailer | null {
  if (!options.smtpUrl) return null
  const transport = nodemailer.createTransport(options.smtpUrl)
  const from = options.from ?? 'botsync <botsync@localhost>'
  return {
    async send(mail) {
      const expires = new Date(mail.expiresAt).toUTCString()
      const subject = mail.kind === 'reset' ? `Reset your botsync password (${mail.spaceName})` : `You are invited to “${mail.spaceName}” on botsync`
      const lead =
        mail.kind === 'reset'
          ? `An owner of “${mail.spaceName}” issued a link to set a new password.`
          : `You are invited to the space “${mail.spaceName}” as ${mail.role === 'owner' ? 'an' : 'a'} ${mail.role}.`
      const text = `${lead}\n\nOpen this link (it works once, until ${expires}):\n\n${mail.url}\n`
      await transport.sendMail({ from, to: mail.to, subject, text })
    },
  }
}

/**
 * Emails the link if a mailer is configured; a failure never loses the
 * invite: it is logged and the caller answers `emailed: false` with the link.
 */
export async function tryEmail(mailer: InviteMailer | null, mail: InviteMail, log: Logger): Promise<boolean> {
  if (!mailer) return false
  try {
    await mailer.send(mail)
    return true
  } catch (error) {
    log.warn({ event: 'invite-email-failed', to: mail.to, kind: mail.kind, err: error }, 'could not email the link; the owner can copy it')
    return false
  }
}
