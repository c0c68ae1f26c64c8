import { noIntegrationCheck, type IntegrationCheck } from './log-fold.ts'

/**
 * The check the fold runs before applying each log row, inline and in the
 * merge workers (a worker cannot be handed a function, so both import it
 * from here).
 */
export const integrationCheck: IntegrationCheck = noIntegrationCheck
