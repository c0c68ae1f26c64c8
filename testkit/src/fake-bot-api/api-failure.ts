import type { ApiErrorBody } from './types.ts'

/** Thrown inside method handlers; turned into a Telegram-shaped error response. */
export class ApiFailure extends Error {
  readonly body: ApiErrorBody

  constructor(errorCode: number, description: string, parameters?: ApiErrorBody['parameters']) {
    super(description)
    this.name = 'ApiFailure'
    this.body = { ok: false, error_code: errorCode, description }
    if (parameters) this.body.parameters = parameters
  }

  static badRequest(detail: string): ApiFailure {
    return new ApiFailure(400, `Bad Request: ${detail}`)
  }
}
