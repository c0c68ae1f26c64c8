// @botsync/testkit/fake-bot-api: the local fake of the Telegram Bot API the
// bot's tests and the benchmarks talk to, and the shapes it records.
export { FakeBotApi } from './fake-bot-api.ts'
export { ApiFailure } from './api-failure.ts'
export type * from './types.ts'
export { FakeTelegram } from './fake-telegram.ts'
