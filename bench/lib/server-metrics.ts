/**
 * One scrape of a botsync server's GET /metrics (METRICS_TOKEN set): the
 * samples by name with labels, e.g. `nodejs_heap_size_used_bytes` or
 * `nodejs_heap_space_size_used_bytes{space="old"}`. prom-client's default
 * metrics say what a process's memory is made of (V8 heap, external), which
 * VmRSS alone does not.
 */
export async function scrapeMetrics(baseUrl: string, token: string): Promise<Map<string, number>> {
  const response = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })
  if (!response.ok) throw new Error(`GET /metrics: ${response.status}`)
  const samples = new Map<string, number>()
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const space = line.lastIndexOf(' ')
    samples.set(line.slice(0, space), Number(line.slice(space + 1)))
  }
  return samples
}
