// A web_app button opens either an https page anywhere or, with a relative
// reference such as "/miniapp#faq" or "miniapp?startapp=x", a page of the
// bot's own Mini App. Content then does not hard-code the host of one
// deployment: the bot resolves the reference against its MINIAPP_URL with
// WHATWG URL resolution (`new URL(reference, MINIAPP_URL)`). Validation
// (validation.ts) decides which references are usable.

/** A scheme as URL parsing sees one: "https:", "tg:", but also "miniapp:" in "miniapp:faq". */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/

/** True when a web_app URL has no scheme, so it names a page of the bot's own Mini App. */
export function isMiniAppReference(url: string): boolean {
  return url !== '' && !SCHEME.test(url)
}
