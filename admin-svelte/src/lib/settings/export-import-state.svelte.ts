// Settings → Export and import: the space as one JSON file
// (GET /api/spaces/:space/export), and a file replacing the drafts
// (POST /api/spaces/:space/import). A refused file comes back with its
// problems and their paths into the file, which the page lists.
import { SPACE_IMPORT_MAX_BYTES, type ExportProblem } from '@botsync/shared-docs'
import { ApiClient, segment, type ApiOptions } from '../api/api-client.ts'

export type ImportOutcome = { ok: true; changed: number; warnings: ExportProblem[] } | { ok: false; message: string; problems: ExportProblem[] }

function problemsOf(body: unknown): ExportProblem[] {
  const problems = (body as { problems?: unknown } | null)?.problems
  if (!Array.isArray(problems)) return []
  return problems.filter((p): p is ExportProblem => typeof p?.path === 'string' && typeof p?.message === 'string')
}

export class ExportImportState {
  readonly space: string
  readonly #api: ApiClient
  #busy = $state(false)
  #outcome = $state<ImportOutcome | null>(null)
  #exportError = $state<string | null>(null)

  constructor(space: string, options: ApiOptions) {
    this.space = space
    this.#api = new ApiClient(options)
  }

  /** An export or import is under way. */
  get busy(): boolean {
    return this.#busy
  }

  /** The last import's result; null before one. */
  get outcome(): ImportOutcome | null {
    return this.#outcome
  }

  get exportError(): string | null {
    return this.#exportError
  }

  /** The file name the server suggests. */
  get fileName(): string {
    return `${this.space}-botsync.json`
  }

  /** The space's export as text, or null (the reason in exportError). */
  async exportText(): Promise<string | null> {
    this.#busy = true
    this.#exportError = null
    try {
      const result = await this.#api.get<unknown>(`/api/spaces/${segment(this.space)}/export`)
      if (!result.ok) {
        this.#exportError = result.message
        return null
      }
      return `${JSON.stringify(result.body, null, 2)}\n`
    } finally {
      this.#busy = false
    }
  }

  /** Sends the file's text; the outcome is also kept in `outcome`. */
  async importText(text: string, size = text.length): Promise<ImportOutcome> {
    this.#busy = true
    try {
      this.#outcome = await this.#import(text, size)
      return this.#outcome
    } finally {
      this.#busy = false
    }
  }

  async #import(text: string, size: number): Promise<ImportOutcome> {
    if (size > SPACE_IMPORT_MAX_BYTES) return { ok: false, message: 'The file is too large: at most 5 MB.', problems: [] }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      return { ok: false, message: 'The file is not JSON.', problems: [] }
    }
    const result = await this.#api.request<{ changed?: unknown; warnings?: unknown }>('POST', `/api/spaces/${segment(this.space)}/import`, json)
    if (!result.ok) {
      const problems = problemsOf(result.body)
      return { ok: false, message: problems.length > 0 ? 'The file was refused; nothing was imported:' : result.message, problems }
    }
    return { ok: true, changed: typeof result.body.changed === 'number' ? result.body.changed : 0, warnings: problemsOf({ problems: result.body.warnings }) }
  }
}
