// Telegram opens web_app buttons at absolute https URLs only. A button may
// name a page of the bot's own Mini App with a relative reference
// (shared-docs' web-app-url.ts), which the bot resolves against MINIAPP_URL:
// that base belongs to the deployment, not to the content.
import { entityPath, isEntityValid, isMiniAppReference, type Problem, type SpaceJson } from '@botsync/shared-docs'

/** MINIAPP_URL as the base of relative web_app URLs, or why it cannot be one. */
export type MiniAppBase = { url: URL } | { unusable: string }

export function miniAppBase(miniAppUrl: string | undefined): MiniAppBase {
  if (!miniAppUrl) return { unusable: 'MINIAPP_URL is not set' }
  let url: URL
  try {
    url = new URL(miniAppUrl)
  } catch {
    return { unusable: 'MINIAPP_URL is not a valid URL' }
  }
  // Telegram would refuse the resolved URL, and with it the whole message.
  if (url.protocol !== 'https:') return { unusable: 'MINIAPP_URL is not an https URL' }
  return { url }
}

/** The URL to send for a web_app button, or null when it is relative and there is no usable base. */
export function resolveWebAppUrl(url: string, base: MiniAppBase): string | null {
  if (!isMiniAppReference(url)) return url
  if (!('url' in base)) return null
  const resolved = new URL(url, base.url)
  // A Mini App page belongs to one space, named by MINIAPP_URL's ?space= (a bot per space): a relative
  // reference keeps it, even one with a path of its own ("/miniapp#faq").
  const space = base.url.searchParams.get('space')
  if (space !== null && resolved.origin === base.url.origin && !resolved.searchParams.has('space')) resolved.searchParams.set('space', space)
  return resolved.href
}

/** MINIAPP_URL for the bot of `space`: the same page, with `?space=<space>` so the page (and its initData check) knows which space it shows. */
export function miniAppUrlForSpace(miniAppUrl: string, space: string): string {
  const url = new URL(miniAppUrl)
  url.searchParams.set('space', space)
  return url.href
}

/**
 * Problems of buttons that passed validation but cannot be sent by this bot:
 * relative web_app URLs without a usable MINIAPP_URL. Reported like any
 * other problem, so the runner leaves just those buttons out (and logs each
 * once) while the rest of their keyboards is still sent.
 */
export function webAppProblems(space: SpaceJson, problems: readonly Problem[], base: MiniAppBase): Problem[] {
  if ('url' in base) return []
  const found: Problem[] = []
  for (const [id, button] of Object.entries(space.buttons)) {
    if (button.action?.type !== 'web_app' || !isMiniAppReference(button.action.url)) continue
    if (!isEntityValid(problems, 'buttons', entityPath.button(id))) continue
    found.push({
      document: 'buttons',
      path: [...entityPath.button(id), 'action', 'url'],
      code: 'web-app-url-needs-miniapp-url',
      message: `Button opens a page of the bot's Mini App, but ${base.unusable}; set it to the Mini App's https address, or give the button an https:// URL.`,
    })
  }
  return found
}
