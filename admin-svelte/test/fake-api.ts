// A fake `fetch` for the admin's API state classes: answers by "METHOD path"
// and records every call (method, path, Authorization, JSON body).

export interface ApiCall {
  method: string
  path: string
  authorization: string | null
  body: unknown
}

type Answer = { status?: number; body?: unknown } | ((call: ApiCall) => { status?: number; body?: unknown })

export class FakeApi {
  readonly calls: ApiCall[] = []
  readonly #routes = new Map<string, Answer>()

  on(route: string, answer: Answer): this {
    this.#routes.set(route, answer)
    return this
  }

  /** The calls to one route ("METHOD path"). */
  callsTo(route: string): ApiCall[] {
    return this.calls.filter((call) => `${call.method} ${call.path}` === route)
  }

  readonly fetch = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const method = init.method ?? 'GET'
    const path = String(input)
    const headers = (init.headers ?? {}) as Record<string, string>
    const call: ApiCall = { method, path, authorization: headers.authorization ?? null, body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined }
    this.calls.push(call)
    const answer = this.#routes.get(`${method} ${path}`)
    if (!answer) return new Response(JSON.stringify({ error: 'not-found', message: `no route ${method} ${path}` }), { status: 404 })
    const { status = 200, body } = typeof answer === 'function' ? answer(call) : answer
    return new Response(status === 204 || body === undefined ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
  }) as typeof fetch
}

/** Lets pending promise callbacks (a refresh started without await) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0))
}
