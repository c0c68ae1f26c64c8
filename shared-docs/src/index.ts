// Public API of @botsync/shared-docs: document names, typed accessors over
// Yjs, JSON projection, validation against Telegram's limits, and seeds.
export * from './names.ts'
export type * from './types.ts'
export { INPUT_KINDS } from './types.ts'
export * from './limits.ts'
export * from './settings.ts'
export * from './buttons.ts'
export * from './scenarios.ts'
export * from './scenario.ts'
export * from './activity.ts'
export {
  projectActivity,
  projectButtons,
  projectScenario,
  projectScenarios,
  projectSettings,
  projectSpace,
  sortScenarios,
  type SpaceDocs,
} from './projection.ts'
export * from './validation.ts'
export * from './web-app-url.ts'
export * from './seed.ts'
export { readRows, readText, replaceText, writeRows, type AnyYType } from './ytypes.ts'
export * from './public-content.ts'
export * from './refusal.ts'
