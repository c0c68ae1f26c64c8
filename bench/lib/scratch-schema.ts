import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { onInterrupt } from './interrupt-cleanup.ts'

/**
 * A PostgreSQL schema of its own for one benchmark run, on the given
 * database. The servers under test get a URL whose connections use it as
 * their search_path, so their tables are created fresh in it and nothing
 * other processes do to the shared tables (tests lock, truncate and fill
 * `document_updates` while they run) stalls or skews the measurement. Same
 * cluster, same WAL and disk: the durability cost is measured as it is.
 */
export class ScratchSchema {
  readonly name: string
  readonly url: string
  private readonly baseUrl: string
  private forgetCleanup: () => void = () => {}

  private constructor(baseUrl: string, name: string) {
    this.baseUrl = baseUrl
    this.name = name
    const url = new URL(baseUrl)
    url.searchParams.set('options', `-c search_path=${name}`)
    this.url = url.toString()
  }

  static async create(baseUrl: string): Promise<ScratchSchema> {
    const schema = new ScratchSchema(baseUrl, `bench_${randomBytes(5).toString('hex')}`)
    await schema.run(`CREATE SCHEMA ${schema.name}`)
    schema.forgetCleanup = onInterrupt(() => schema.drop())
    return schema
  }

  async drop(): Promise<void> {
    this.forgetCleanup()
    await this.run(`DROP SCHEMA IF EXISTS ${this.name} CASCADE`)
  }

  private async run(sql: string): Promise<void> {
    const client = new pg.Client({ connectionString: this.baseUrl })
    await client.connect()
    try {
      await client.query(sql)
    } finally {
      await client.end()
    }
  }
}
