export { BotsyncServer, type StartedInfo } from './botsync-server.ts'
export { loadConfig, type ServerConfig } from './config.ts'
export { ServerWriter } from './server-writer.ts'
export { UserRepository } from './auth/user-repository.ts'
