// The content documents of a space's scenarios, opened for a page that must
// see every keyboard and step: who shows a button ("Used in", deleting a
// button), which steps a goto can name, what a deleted scenario's buttons
// are shown in. The page lists the scenario ids (from the index) with
// `sync`; documents no longer listed are released.
import { docName, isValidId, projectScenario, scenarioRoot, type ScenarioJson } from '@botsync/shared-docs'
import { SvelteMap } from 'svelte/reactivity'
import type * as Y from 'yjs'
import type { DocumentSource, OpenDocument } from '../connection/open-document.ts'
import { YState } from '../yjs/y-state.svelte.ts'

/** At most this many scenario documents are opened at once (the server's provider refuses more than 100 pending). */
export const MAX_SCENARIO_DOCUMENTS = 50

interface Opened {
  document: OpenDocument
  content: YState<ScenarioJson>
}

export class ScenarioContents {
  readonly #source: DocumentSource
  readonly #space: string
  readonly #onOpen: (doc: Y.Doc) => void
  readonly #opened = new SvelteMap<string, Opened>()

  /** `onOpen`: called with each document when it is opened (the page's undo tracks it, say). */
  constructor(source: DocumentSource, space: string, onOpen: (doc: Y.Doc) => void = () => {}) {
    this.#source = source
    this.#space = space
    this.#onOpen = onOpen
  }

  #contents = $derived.by((): Record<string, ScenarioJson> => {
    const result: Record<string, ScenarioJson> = {}
    for (const [id, opened] of this.#opened) if (opened.document.loaded) result[id] = opened.content.current
    return result
  })
  #loaded = $derived.by((): boolean => [...this.#opened.values()].every((opened) => opened.document.loaded))

  /** Content of the loaded documents, by scenario id. */
  get contents(): Record<string, ScenarioJson> {
    return this.#contents
  }

  /** Every listed document is loaded. */
  get loaded(): boolean {
    return this.#loaded
  }

  /** The open document of a scenario, if listed. */
  document(scenarioId: string): OpenDocument | undefined {
    return this.#opened.get(scenarioId)?.document
  }

  /** Opens the documents of the listed scenarios and releases the others. */
  sync(scenarioIds: readonly string[]): void {
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a local lookup, gone when the method returns
    const wanted = new Set(scenarioIds.filter(isValidId).slice(0, MAX_SCENARIO_DOCUMENTS))
    for (const [id, opened] of this.#opened) {
      if (!wanted.has(id)) {
        this.#opened.delete(id)
        this.#source.release(opened.document)
      }
    }
    for (const id of wanted) {
      if (this.#opened.has(id)) continue
      const document = this.#source.open(docName.scenario(this.#space, id))
      const doc = document.doc
      this.#onOpen(doc)
      this.#opened.set(id, { document, content: new YState(scenarioRoot(doc), () => projectScenario(doc)) })
    }
  }

  destroy(): void {
    for (const opened of this.#opened.values()) this.#source.release(opened.document)
    this.#opened.clear()
  }
}
