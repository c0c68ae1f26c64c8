// A Svelte action that draws a formatted text into its element with
// entityNodes(): the admin's preview and the Mini App use the same one, so
// a message reads the same in both.
import type { MessageEntity } from '@botsync/shared-docs'
import { entityNodes, type EntityDomOptions } from './entity-dom.ts'

export interface FormattedTextParams {
  text: string
  entities?: readonly MessageEntity[]
  options?: EntityDomOptions
}

export function formattedText(node: HTMLElement, params: FormattedTextParams): { update(params: FormattedTextParams): void } {
  const draw = (p: FormattedTextParams) => node.replaceChildren(entityNodes(node.ownerDocument, p.text, p.entities ?? [], p.options))
  draw(params)
  return { update: draw }
}
