// An action for an item's container: while focus is inside it, this user's
// presence says so ("Ana is editing step 2" on everyone else's screen).
import type { PresenceFocus, PresenceState } from './presence-state.svelte.ts'

export function trackFocus(node: HTMLElement, params: { presence: PresenceState; focus: PresenceFocus }) {
  let current = params
  const onFocusIn = (): void => current.presence.setFocus(current.focus)
  const onFocusOut = (event: FocusEvent): void => {
    if (event.relatedTarget instanceof Node && node.contains(event.relatedTarget)) return
    current.presence.clearFocus(current.focus.item)
  }
  node.addEventListener('focusin', onFocusIn)
  node.addEventListener('focusout', onFocusOut)
  return {
    update(next: { presence: PresenceState; focus: PresenceFocus }) {
      current = next
      if (node.contains(document.activeElement)) current.presence.setFocus(current.focus)
    },
    destroy() {
      node.removeEventListener('focusin', onFocusIn)
      node.removeEventListener('focusout', onFocusOut)
      current.presence.clearFocus(current.focus.item)
    },
  }
}
