// How the Mini App learns who opened it and in which colours. Telegram's own
// script (telegram-web-app.js) exposes both on `window.Telegram.WebApp` when
// the page includes it; without it, Telegram still passes them as launch
// parameters in the URL (`#tgWebAppData=…&tgWebAppThemeParams=…`), which is
// what this page reads then, so it works without loading a third-party script.

export type ThemeParams = Record<string, string>

/** Telegram's back button in the Mini App's header (Bot API 6.1+); absent outside Telegram and in older clients. */
export interface TelegramBackButton {
  show(): void
  hide(): void
  onClick(callback: () => void): void
  offClick(callback: () => void): void
}

interface TelegramWebApp {
  initData?: string
  /** initData parsed by Telegram's script; not verified, so for display only. */
  initDataUnsafe?: { user?: { first_name?: unknown } }
  themeParams?: ThemeParams
  BackButton?: TelegramBackButton
  ready?: () => void
}

declare global {
  interface Window {
    Telegram?: { WebApp?: TelegramWebApp }
  }
}

export interface LaunchParams {
  /** The signed initData string, or null when the page was not opened from Telegram. */
  initData: string | null
  themeParams: ThemeParams
  /**
   * The reader's first name, for `{name}` in the texts. Display only: the
   * server verified the initData it came with, and nothing is decided by it.
   */
  firstName: string | null
}

function urlParams(location: Pick<Location, 'hash' | 'search'>): URLSearchParams[] {
  return [new URLSearchParams(location.hash.replace(/^#/, '')), new URLSearchParams(location.search)]
}

function parseTheme(json: string | null): ThemeParams {
  if (!json) return {}
  try {
    const value: unknown = JSON.parse(json)
    if (!value || typeof value !== 'object') return {}
    return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'))
  } catch {
    return {}
  }
}

export function readLaunchParams(win: Pick<Window, 'Telegram' | 'location'> = window): LaunchParams {
  const webApp = win.Telegram?.WebApp
  const params = urlParams(win.location)
  const fromUrl = (key: string): string | null => params.map((p) => p.get(key)).find((value) => value) ?? null
  const initData = webApp?.initData || fromUrl('tgWebAppData')
  const themeParams = webApp?.themeParams && Object.keys(webApp.themeParams).length > 0 ? webApp.themeParams : parseTheme(fromUrl('tgWebAppThemeParams'))
  return { initData: initData || null, themeParams, firstName: firstNameOf(webApp, initData || null) }
}

/** From Telegram's parsed initData when its script is on the page, else from the initData string's `user` field. */
function firstNameOf(webApp: TelegramWebApp | undefined, initData: string | null): string | null {
  const parsed = webApp?.initDataUnsafe?.user?.first_name
  if (typeof parsed === 'string' && parsed !== '') return parsed
  if (!initData) return null
  try {
    const user: unknown = JSON.parse(new URLSearchParams(initData).get('user') ?? 'null')
    const name = user && typeof user === 'object' ? (user as { first_name?: unknown }).first_name : undefined
    return typeof name === 'string' && name !== '' ? name : null
  } catch {
    return null
  }
}

/** Telegram's theme as CSS variables (`bg_color` → `--tg-theme-bg-color`), the names its own script uses. */
export function applyTheme(themeParams: ThemeParams, root: HTMLElement = document.documentElement): void {
  for (const [key, value] of Object.entries(themeParams)) {
    if (/^[a-z_]+$/.test(key) && /^#[0-9a-f]{3,8}$/i.test(value)) root.style.setProperty(`--tg-theme-${key.replaceAll('_', '-')}`, value)
  }
}
