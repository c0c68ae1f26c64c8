// The spaces the logged-in user is a member of (GET /api/spaces), with their
// role in each: the role is held per space, never on the session's user.
// Creating, deleting (with a typed confirmation and a grace period) and
// restoring go through here, and so does what the server said live about a
// space: "you are a viewer here now" (`role-changed`) and "you were removed".
import { isValidSpace } from '@botsync/shared-docs'
import { SvelteMap, SvelteSet } from 'svelte/reactivity'
import { ApiClient, segment, type ApiOptions } from '../api/api-client.ts'
import { parseSpace, toMillis, type SpaceRole, type SpaceSummary } from '../api/wire.ts'

export type SpaceRefusal = 'removed' | 'forbidden-space' | 'unknown-space'

export type SpaceActionResult<T = object> = ({ ok: true } & T) | { ok: false; error: string; message: string; field?: 'id' | 'name' }

export class SpacesState {
  #spaces = $state<SpaceSummary[]>([])
  #loaded = $state(false)
  #error = $state<string | null>(null)
  readonly #demoted = new SvelteSet<string>()
  readonly #refused = new SvelteMap<string, { reason: SpaceRefusal; seq: number }>()
  /** Every space seen in a list since the page loaded: refused later, it means "removed". */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never rendered
  readonly #known = new Set<string>()
  #seq = 0
  readonly #api: ApiClient
  readonly #storage: Storage | null
  readonly #cacheKey: string | null
  /** The list shown comes from this device's copy (a previous page load), not yet from the server. */
  #cached = false

  /**
   * `cacheKey`: keep the last list in `storage` (localStorage by default)
   * under this key, so a reload made offline still knows the role in each
   * space (scope it by user).
   */
  constructor(options: ApiOptions & { cacheKey?: string; storage?: Storage | null }) {
    this.#api = new ApiClient(options)
    this.#cacheKey = options.cacheKey ?? null
    this.#storage = options.storage !== undefined ? options.storage : (globalThis.localStorage ?? null)
    if (this.#cacheKey) this.#loadCache(this.#cacheKey)
  }

  #loadCache(key: string): void {
    try {
      const value = JSON.parse(this.#storage?.getItem(key) ?? 'null') as unknown
      if (!Array.isArray(value)) return
      this.#setSpaces(value.map(parseSpace).filter((entry): entry is SpaceSummary => entry !== null))
      this.#cached = true
    } catch {
      // A broken copy is ignored: the server's list replaces it.
    }
  }

  /** The caller's spaces, by name. */
  get list(): readonly SpaceSummary[] {
    return this.#spaces
  }

  /** The list came from the server at least once. */
  get loaded(): boolean {
    return this.#loaded
  }

  /** Why the last load failed (the previous list stays). */
  get error(): string | null {
    return this.#error
  }

  find(space: string): SpaceSummary | undefined {
    return this.#spaces.find((entry) => entry.id === space)
  }

  /** The user's role in `space`, or null when not (known to be) a member. */
  roleOf(space: string): SpaceRole | null {
    return this.find(space)?.role ?? null
  }

  isOwner(space: string): boolean {
    return this.roleOf(space) === 'owner'
  }

  /**
   * Whether documents of `space` should open read-only before the server says
   * so itself (it always does once connected): viewers, and spaces scheduled
   * for deletion. A space missing from a list that was read is editable
   * until refused (say, just created elsewhere): the server decides anyway.
   */
  readOnlyIn(space: string): boolean {
    const entry = this.find(space)
    // Not known at all (no list yet, not even this device's copy): the server's answer decides, read-only until then.
    if (!entry) return !this.#loaded && !this.#cached
    return entry.role === 'viewer' || entry.deletingAt !== null
  }

  /** The server turned this user's connections to `space` read-only (`role-changed`), and no newer role undid it. */
  demotedIn(space: string): boolean {
    return this.#demoted.has(space)
  }

  /**
   * Why this user cannot open `space`, when the server refused its documents:
   * `removed` (they were a member while this page was open), `forbidden-space`
   * (never a member) or `unknown-space` (no such space, or deleted). Null once
   * a list read after the refusal includes the space again (re-invited, created).
   */
  refusal(space: string): SpaceRefusal | null {
    return this.#refused.get(space)?.reason ?? null
  }

  async refresh(): Promise<boolean> {
    const seq = ++this.#seq
    const result = await this.#api.get<{ spaces?: unknown }>('/api/spaces')
    if (!result.ok) {
      this.#error = result.message
      return false
    }
    const list = Array.isArray(result.body?.spaces) ? result.body.spaces : []
    const spaces = list.map(parseSpace).filter((entry): entry is SpaceSummary => entry !== null)
    this.#setSpaces(spaces, seq)
    this.#error = null
    this.#loaded = true
    this.#cached = false
    if (this.#cacheKey) this.#storage?.setItem(this.#cacheKey, JSON.stringify(spaces))
    return true
  }

  /** `seq`: the number of the read that brought the list (null: a local change), so an older read cannot undo a newer refusal. */
  #setSpaces(spaces: SpaceSummary[], seq: number | null = null): void {
    for (const space of spaces) this.#known.add(space.id)
    this.#spaces = [...spaces].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
    for (const space of [...this.#demoted]) {
      const role = this.roleOf(space)
      // Made editor or owner again: the server gives write access back by itself.
      if (role !== null && role !== 'viewer') this.#demoted.delete(space)
    }
    for (const [space, refused] of [...this.#refused]) if (this.find(space) && (seq === null || seq > refused.seq)) this.#refused.delete(space)
  }

  #put(space: SpaceSummary): void {
    this.#setSpaces([...this.#spaces.filter((entry) => entry.id !== space.id), space])
  }

  /**
   * The server made this user's connections to `space` read-only because
   * their role changed. Remembered until a newer list shows a role that may
   * write; the list is read again now for the new role.
   */
  noteRoleChanged(space: string): void {
    this.#demoted.add(space)
    const entry = this.find(space)
    if (entry && entry.role !== 'viewer') this.#put({ ...entry, role: 'viewer' })
    void this.refresh()
  }

  /**
   * The server refused `space`'s documents (`forbidden-space` or
   * `unknown-space`). A space this page knew as one of the user's becomes
   * `removed` (or, when it no longer exists, `unknown-space`: deleted).
   */
  noteRefused(space: string, reason: 'forbidden-space' | 'unknown-space'): SpaceRefusal {
    const refusal: SpaceRefusal = reason === 'forbidden-space' && this.#known.has(space) ? 'removed' : reason
    // Each open document of the space is refused: the first one counts.
    if (this.#refused.get(space)?.reason === refusal) return refusal
    this.#refused.set(space, { reason: refusal, seq: this.#seq })
    this.#demoted.delete(space)
    this.#spaces = this.#spaces.filter((entry) => entry.id !== space)
    void this.refresh()
    return refusal
  }

  /**
   * The server closed this user's socket for lost access (4403): read the
   * list again, and a known space of theirs missing from it was removed.
   */
  async checkMembership(space: string): Promise<void> {
    if (!(await this.refresh())) return
    if (this.#known.has(space) && !this.find(space)) this.noteRefused(space, 'forbidden-space')
  }

  /** Creates a space; the caller becomes its owner. */
  async create(id: string, name: string): Promise<SpaceActionResult<{ space: SpaceSummary }>> {
    const spaceId = id.trim()
    const displayName = name.trim()
    if (!isValidSpace(spaceId)) {
      return {
        ok: false,
        error: 'invalid-space',
        field: 'id',
        message: 'A space id is 1–63 characters: lowercase letters, digits, _ and -, starting with a letter or digit.',
      }
    }
    if (displayName === '') return { ok: false, error: 'invalid-request', field: 'name', message: 'Give the space a display name.' }
    const result = await this.#api.request<{ space?: unknown }>('POST', '/api/spaces', { id: spaceId, name: displayName })
    if (!result.ok)
      return { ok: false, error: result.error, message: result.message, field: result.error === 'invalid-space' || result.error === 'space-exists' ? 'id' : undefined }
    const space = parseSpace(result.body?.space) ?? { id: spaceId, name: displayName, role: 'owner' as const, deletingAt: null }
    this.#put(space)
    return { ok: true, space }
  }

  /** Schedules the space's deletion; `confirm` must be its id, typed by the owner. */
  async remove(space: string, confirm: string): Promise<SpaceActionResult<{ deletingAt: number | null }>> {
    if (confirm.trim() !== space) return { ok: false, error: 'confirm-mismatch', message: `Type ${space} to confirm.` }
    const result = await this.#api.request<{ deletingAt?: unknown }>('DELETE', `/api/spaces/${segment(space)}`, { confirm: space })
    if (!result.ok) return { ok: false, error: result.error, message: result.message }
    const deletingAt = toMillis(result.body?.deletingAt)
    const entry = this.find(space)
    if (entry) this.#put({ ...entry, deletingAt: deletingAt ?? Date.now() })
    void this.refresh()
    return { ok: true, deletingAt }
  }

  /** Cancels a scheduled deletion. */
  async restore(space: string): Promise<SpaceActionResult> {
    const result = await this.#api.request('POST', `/api/spaces/${segment(space)}/restore`)
    if (!result.ok) return { ok: false, error: result.error, message: result.message }
    const entry = this.find(space)
    if (entry) this.#put({ ...entry, deletingAt: null })
    void this.refresh()
    return { ok: true }
  }
}
