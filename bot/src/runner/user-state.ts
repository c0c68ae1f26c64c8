/** Where a user is: a step of a scenario. */
export interface Position {
  scenarioId: string
  stepId: string
}

/**
 * Per-user state, kept in the session store (PostgreSQL) so a restart keeps
 * everyone's place. `history` holds the positions `back` returns to.
 */
export interface UserState {
  scenarioId: string | null
  stepId: string | null
  /** Validated answers of input steps, by variable name. */
  vars: Record<string, string>
  history: Position[]
}

export const HISTORY_LIMIT = 20

export function newUserState(): UserState {
  return { scenarioId: null, stepId: null, vars: {}, history: [] }
}

/** A stored state in the current shape, whatever an older bot version or a hand edit left. */
export function normaliseUserState(value: unknown): UserState {
  const state = newUserState()
  if (typeof value !== 'object' || value === null) return state
  const v = value as Record<string, unknown>
  if (typeof v.scenarioId === 'string' && typeof v.stepId === 'string') {
    state.scenarioId = v.scenarioId
    state.stepId = v.stepId
  }
  if (typeof v.vars === 'object' && v.vars !== null && !Array.isArray(v.vars)) {
    for (const [key, item] of Object.entries(v.vars)) if (typeof item === 'string') state.vars[key] = item
  }
  if (Array.isArray(v.history)) {
    for (const item of v.history.slice(-HISTORY_LIMIT)) {
      const p = item as Partial<Position> | null
      if (typeof p?.scenarioId === 'string' && typeof p.stepId === 'string') state.history.push({ scenarioId: p.scenarioId, stepId: p.stepId })
    }
  }
  return state
}
